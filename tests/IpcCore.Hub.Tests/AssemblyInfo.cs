using System.Runtime.Versioning;
using NUnit.Framework;

// The hub is a Linux program (epoll, eventfd, UNIX sockets).
[assembly: SupportedOSPlatform("linux")]

// Every test has its own hub directory under /tmp, so fixtures run in parallel. The machine may have
// only 2 cores shared by every hub thread and client: keep the parallelism modest.
[assembly: Parallelizable(ParallelScope.Fixtures)]
[assembly: LevelOfParallelism(3)]
