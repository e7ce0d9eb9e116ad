using System.Runtime.Versioning;
using NUnit.Framework;

// The hub and its tools are Linux programs (UNIX sockets, signals, /proc).
[assembly: SupportedOSPlatform("linux")]

// Every test has its own hub directory and hub process, so fixtures run in parallel. The machine may
// have only 2 cores and every test starts several .NET processes: keep the parallelism modest.
[assembly: Parallelizable(ParallelScope.Fixtures)]
[assembly: LevelOfParallelism(3)]
