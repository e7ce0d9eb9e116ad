using System.Runtime.Versioning;
using NUnit.Framework;

[assembly: Parallelizable(ParallelScope.Fixtures)]

// myipcbench is Linux-only (POSIX IPC); so are its tests.
[assembly: SupportedOSPlatform("linux")]
