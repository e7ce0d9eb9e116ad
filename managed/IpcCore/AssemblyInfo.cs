using System.Runtime.CompilerServices;

// Every shim import is source-generated (LibraryImport) with blittable signatures; the runtime
// marshaller is never needed, so it is switched off to make any accidental use a compile error.
[assembly: DisableRuntimeMarshalling]
