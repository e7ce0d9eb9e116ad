// `./build.sh bench [BenchmarkDotNet args]`, e.g. `--filter '*Futex*'`; every class reports allocations
// (MemoryDiagnoser) because 0 B per operation is the bar on every path measured here.
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

IEnumerable<Summary> summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

// BenchmarkDotNet exits 0 even when a benchmark threw; the CI smoke run must not.
int failed = summaries.Sum(s => s.Reports.Count(r => !r.Success) + (s.HasCriticalValidationErrors ? 1 : 0));
if (failed > 0)
{
    Console.Error.WriteLine($"{failed} benchmark(s) failed");
    return 1;
}
return 0;
