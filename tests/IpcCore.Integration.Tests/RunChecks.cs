using IpcCore.Integration.Tests.Infrastructure;
using NUnit.Framework;

namespace IpcCore.Integration.Tests;

/// <summary>
/// Checks of the whole run: no process started by a test is still alive, no new POSIX IPC object
/// appeared (apart from the unit tests' own ipccore-test.* names), and no hub directory of this run is
/// left in /tmp.
/// </summary>
[SetUpFixture]
public sealed class RunChecks
{
    private HashSet<string> _posixBefore = [];

    [OneTimeSetUp]
    public void TakeSnapshot() => _posixBefore = PosixLeaks.Snapshot();

    [OneTimeTearDown]
    public void CheckNothingLeft()
    {
        var problems = new List<string>();
        foreach (ChildProcess child in ChildProcess.Started.Values)
        {
            if (!child.HasExited)
            {
                problems.Add($"process still running at the end of the run: {child.Describe()}");
                child.Stop(TimeSpan.FromSeconds(5));
            }
        }
        var ours = PosixLeaks.Find(ChildProcess.AllPids, TestNames.RunPrefix);
        foreach (string entry in ours)
        {
            problems.Add($"POSIX IPC object of this run left behind: {entry}");
        }
        // Other test assemblies may run at the same time: entries not clearly ours are only reported.
        foreach (string entry in PosixLeaks.Snapshot())
        {
            string name = Path.GetFileName(entry);
            if (!_posixBefore.Contains(entry) && !ours.Contains(entry)
                && !name.StartsWith("ipccore-test.", StringComparison.Ordinal) && !name.StartsWith("sem.ipccore-test.", StringComparison.Ordinal))
            {
                TestContext.Progress.WriteLine($"note: new POSIX IPC object since the run started (not known to be this run's): {entry}");
            }
        }
        foreach (string dir in Directory.EnumerateDirectories("/tmp", TestNames.RunPrefix + "*"))
        {
            problems.Add($"hub directory left in /tmp: {dir}");
            Directory.Delete(dir, recursive: true);
        }
        if (problems.Count > 0)
        {
            Assert.Fail(string.Join("\n", problems));
        }
    }
}
