using System.Runtime.Versioning;

// The hub is a Linux program: epoll, eventfd, UNIX sockets, POSIX signals and file modes.
[assembly: SupportedOSPlatform("linux")]
