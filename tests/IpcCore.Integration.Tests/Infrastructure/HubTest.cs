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
    private readonly string _publisherBackend;
    private readonly string _subscriberBackend;

    /// <param name="backend">The --backend of the publishers and (unless <paramref name="subscriberBackend"/>) the subscribers.</param>
    private protected HubTest(string backend = "socket", string? subscriberBackend = null)
    {
        _publisherBackend = backend;
        _subscriberBackend = subscriberBackend ?? backend;
    }

    /// <summary>The --backend the publishers use (fixtures parameterized over the transports).</summary>
    private protected string Backend => _publisherBackend;

    private protected HubTestEnvironment Env => _env ?? throw new InvalidOperationException("no test is running");

    /// <summary>The short tag of this fixture's hub directories.</summary>
    private protected abstract string Tag { get; }

    [SetUp]
    public void CreateEnvironment() => _env = new HubTestEnvironment(Tag)
    {
        PublisherBackend = _publisherBackend,
        SubscriberBackend = _subscriberBackend,
    };

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
