using NUnit.Framework;
using NUnit.Framework.Interfaces;

namespace IpcCore.Integration.Tests.Infrastructure;

/// <summary>
/// Base of the fixtures: each test gets a <see cref="HubTestEnvironment"/> (its own hub directory and
/// processes), cleaned up after the test; anything left behind fails the test.
/// </summary>
public abstract class HubTest
{
    private HubTestEnvironment? _env;

    private protected HubTestEnvironment Env => _env ?? throw new InvalidOperationException("no test is running");

    /// <summary>The short tag of this fixture's hub directories.</summary>
    private protected abstract string Tag { get; }

    [SetUp]
    public void CreateEnvironment() => _env = new HubTestEnvironment(Tag);

    [TearDown]
    public void CleanUpEnvironment()
    {
        HubTestEnvironment? env = _env;
        _env = null;
        if (env is null)
        {
            return;
        }
        List<string> problems = env.CleanUp();
        if (problems.Count == 0)
        {
            return;
        }
        string report = "clean-up found:\n" + string.Join("\n", problems);
        if (TestContext.CurrentContext.Result.Outcome.Status == TestStatus.Failed)
        {
            TestContext.Error.WriteLine(report);
        }
        else
        {
            Assert.Fail(report);
        }
    }
}
