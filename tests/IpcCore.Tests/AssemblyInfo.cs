using NUnit.Framework;

// Every test uses names unique to itself, so fixtures run in parallel.
[assembly: Parallelizable(ParallelScope.Fixtures)]
[assembly: LevelOfParallelism(4)]
