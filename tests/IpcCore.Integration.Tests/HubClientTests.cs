using System.Text;
using IpcCore.Client;
using IpcCore.Integration.Tests.Infrastructure;
using IpcCore.Protocol;
using NUnit.Framework;

namespace IpcCore.Integration.Tests;

/// <summary>The client library against the real hub and the real CLIs.</summary>
[TestFixture]
public sealed class HubClientTests : HubTest
{
    private protected override string Tag => "client";

    private HubClientOptions Options() => new()
    {
        Directory = Env.Directory,
        ClientName = "it-hubclient",
        ConnectTimeout = TimeSpan.FromSeconds(10),
        Reconnect = false,
    };

    [Test]
    public async Task OversizedPublish_IsRefused_AndTheSameClientPublishesNormallyAfterwards()
    {
        Env.StartHub();
        ChildProcess sub = Env.StartSubscriber("client", "--count", "1");
        await using HubClient client = await HubClient.ConnectAsync(Options());
        Assert.That(client.MaxMessageSize, Is.EqualTo(ProtocolLimits.DefaultMaxMessageSize));

        byte[] big = new byte[client.MaxMessageSize + 1];
        var refused = Assert.ThrowsAsync<HubException>(async () => await client.PublishAsync("client", big));
        Assert.That(refused!.Code, Is.EqualTo(ProtocolErrorCode.PayloadTooLarge), refused.Message);

        PublishResult result = await client.PublishAsync("client", Encoding.UTF8.GetBytes("after the refusal")).AsTask()
            .WaitAsync(Timeouts.Message);
        Assert.That(result.Delivered, Is.EqualTo(1));
        Assert.That(result.ChannelSequence, Is.EqualTo(1UL), "the refused message took no sequence number");
        Assert.That(sub.WaitForExit(Timeouts.Message, "myipcsub"), Is.Zero, sub.Describe());
        Assert.That(sub.StdoutLines(), Is.EqualTo(new[] { "[client] after the refusal" }), sub.Describe());
    }

    [Test]
    public async Task ClientSubscription_ReceivesWhatMyipcpubPublishes()
    {
        Env.StartHub();
        await using HubClient client = await HubClient.ConnectAsync(Options());
        await using HubSubscription subscription = await client.SubscribeAsync("sensors.>").WaitAsync(Timeouts.Message);

        Env.PublishOk("sensors.temp", "21.5", 1);
        Env.PublishOk("sensors.a.b", "deep", 1);

        using var timeout = new CancellationTokenSource(Timeouts.Message);
        var received = new List<HubMessage>();
        await foreach (HubMessage m in subscription.WithCancellation(timeout.Token))
        {
            received.Add(m);
            if (received.Count == 2)
            {
                break;
            }
        }
        Assert.That(received.Select(m => (m.Channel, m.Sequence, Encoding.UTF8.GetString(m.Payload.Span))),
            Is.EqualTo(new[] { ("sensors.temp", 1UL, "21.5"), ("sensors.a.b", 1UL, "deep") }));
    }
}
