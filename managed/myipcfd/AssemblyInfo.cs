using System.Runtime.Versioning;

// A Linux program: SCM_RIGHTS, memfd seals, setresuid, file modes.
[assembly: SupportedOSPlatform("linux")]
