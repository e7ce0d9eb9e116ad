using System.Runtime.Versioning;

// A Linux program: it measures epoll, futex, POSIX queues and shared memory, FIFOs and UNIX sockets.
[assembly: SupportedOSPlatform("linux")]
