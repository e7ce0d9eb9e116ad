using NUnit.Framework;

namespace IpcCore.Hub.Tests;

[TestFixture]
public sealed class HubOptionsTests
{
    [Test]
    public void Defaults_AreTheDocumentedOnes_AndValid()
    {
        var o = new HubOptions();
        Assert.Multiple(() =>
        {
            Assert.That(o.Validate(), Is.Null);
            Assert.That(o.MaxMessageSize, Is.EqualTo(1024 * 1024));
            Assert.That(o.MaxClients, Is.EqualTo(1024));
            Assert.That(o.MaxChannels, Is.EqualTo(65536));
            Assert.That(o.MaxSubscriptionsPerClient, Is.EqualTo(1024));
            Assert.That(o.QueueMessages, Is.EqualTo(65536));
            Assert.That(o.QueueBytes, Is.EqualTo(2L * 1024 * 1024));
            Assert.That(o.SlowPolicy, Is.EqualTo(SlowConsumerPolicy.Backpressure));
            Assert.That(o.SlowDeadline, Is.EqualTo(TimeSpan.FromSeconds(5)));
            Assert.That(o.ShutdownTimeout, Is.EqualTo(TimeSpan.FromSeconds(2)));
            Assert.That(o.ShmRingSize, Is.EqualTo(1024 * 1024));
        });
    }

    [TestCase("--max-message-size")]
    [TestCase("--max-clients")]
    [TestCase("--max-channels")]
    [TestCase("--max-subscriptions")]
    [TestCase("--queue-messages")]
    [TestCase("--queue-bytes")]
    [TestCase("--slow-deadline")]
    [TestCase("--shutdown-timeout")]
    [TestCase("--shm-ring-size")]
    public void InvalidValues_AreReported_NamingTheOption(string option)
    {
        HubOptions o = option switch
        {
            "--max-message-size" => new HubOptions { MaxMessageSize = 0 },
            "--max-clients" => new HubOptions { MaxClients = 0 },
            "--max-channels" => new HubOptions { MaxChannels = -1 },
            "--max-subscriptions" => new HubOptions { MaxSubscriptionsPerClient = 0 },
            "--queue-messages" => new HubOptions { QueueMessages = 0 },
            "--queue-bytes" => new HubOptions { QueueBytes = 1024 * 1024 }, // less than one maximum-size frame
            "--slow-deadline" => new HubOptions { SlowDeadline = TimeSpan.Zero },
            "--shm-ring-size" => new HubOptions { ShmRingSize = 3 * 4096 }, // not a power of two
            _ => new HubOptions { ShutdownTimeout = TimeSpan.FromSeconds(-1) },
        };
        Assert.That(o.Validate(), Does.StartWith(option + " "));
        Assert.Throws<ArgumentException>(() => new HubServer(o).Dispose());
    }

    [Test]
    public void QueueBytes_MustHoldOneMaximumSizeFrame()
    {
        var o = new HubOptions { MaxMessageSize = 1000, QueueBytes = 24 + 255 + 1000 };
        Assert.That(o.Validate(), Is.Null);
        Assert.That((o with { QueueBytes = o.QueueBytes - 1 }).Validate(), Does.Contain("one maximum-size frame"));
    }
}
