using System.Globalization;
using IpcCore.Native;
using NUnit.Framework;

namespace IpcCore.Tests;

/// <summary>
/// getrlimit/setrlimit of this (shared, parallel) test process. Every test restores what it changed,
/// and changes only stay within a margin that no other test can notice (a few descriptors).
/// </summary>
[TestFixture]
[NonParallelizable] // the limits are process-wide; keep other fixtures from seeing a lowered soft limit
public sealed class ResourceLimitsTests
{
    [Test]
    public void OpenFiles_matches_proc_self_limits()
    {
        (long soft, long hard) = ResourceLimits.Get(ResourceLimit.OpenFiles);
        string line = File.ReadLines("/proc/self/limits").First(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        string[] parts = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);

        Assert.That(soft, Is.EqualTo(ParseLimit(parts[0])));
        Assert.That(hard, Is.EqualTo(ParseLimit(parts[1])));
        Assert.That(soft, Is.GreaterThan(0));
    }

    [Test]
    public void MessageQueueBytes_matches_proc_self_limits()
    {
        (long soft, long hard) = ResourceLimits.Get(ResourceLimit.MessageQueueBytes);
        string line = File.ReadLines("/proc/self/limits").First(l => l.StartsWith("Max msgqueue size", StringComparison.Ordinal));
        string[] parts = line["Max msgqueue size".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);

        Assert.That(soft, Is.EqualTo(ParseLimit(parts[0])));
        Assert.That(hard, Is.EqualTo(ParseLimit(parts[1])));
    }

    [Test]
    public void Set_round_trips_and_restores()
    {
        (long soft, long hard) = ResourceLimits.Get(ResourceLimit.OpenFiles);
        try
        {
            ResourceLimits.Set(ResourceLimit.OpenFiles, soft - 1, hard);
            Assert.That(ResourceLimits.Get(ResourceLimit.OpenFiles), Is.EqualTo((soft - 1, hard)));
        }
        finally
        {
            ResourceLimits.Set(ResourceLimit.OpenFiles, soft, hard);
        }
        Assert.That(ResourceLimits.Get(ResourceLimit.OpenFiles), Is.EqualTo((soft, hard)));
    }

    [Test]
    public void Soft_above_hard_is_EINVAL_naming_the_limit()
    {
        (long soft, long hard) = ResourceLimits.Get(ResourceLimit.OpenFiles);
        Assume.That(hard, Is.Not.EqualTo(ResourceLimits.Unlimited));

        IpcException e = Assert.Throws<IpcException>(() => ResourceLimits.Set(ResourceLimit.OpenFiles, hard + 1, hard))!;
        Assert.That(e.Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(e.Message, Is.EqualTo("setrlimit('RLIMIT_NOFILE'): EINVAL (Invalid argument)"));
        Assert.That(ResourceLimits.Get(ResourceLimit.OpenFiles), Is.EqualTo((soft, hard)));
    }

    [Test]
    public void Unknown_resources_and_values_below_minus_one_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ResourceLimits.Get((ResourceLimit)7));
        Assert.Throws<ArgumentOutOfRangeException>(() => ResourceLimits.Set(ResourceLimit.OpenFiles, -2, 100));
        Assert.Throws<ArgumentOutOfRangeException>(() => ResourceLimits.TryRaise(ResourceLimit.OpenFiles, -5, out _));
    }

    [Test]
    public void TryRaise_below_the_soft_limit_changes_nothing()
    {
        (long soft, long hard) = ResourceLimits.Get(ResourceLimit.OpenFiles);

        Assert.That(ResourceLimits.TryRaise(ResourceLimit.OpenFiles, soft - 10, out long granted), Is.True);
        Assert.That(granted, Is.EqualTo(soft), "the soft limit is never lowered");
        Assert.That(ResourceLimits.TryRaise(ResourceLimit.OpenFiles, soft, out granted), Is.True);
        Assert.That(granted, Is.EqualTo(soft));
        Assert.That(ResourceLimits.Get(ResourceLimit.OpenFiles), Is.EqualTo((soft, hard)));
    }

    [Test]
    public void TryRaise_up_to_the_hard_limit_raises_only_the_soft_limit()
    {
        (long soft, long hard) = ResourceLimits.Get(ResourceLimit.OpenFiles);
        try
        {
            // Make room below the hard limit first: lower the soft limit by a few descriptors.
            long lowered = (hard == ResourceLimits.Unlimited ? soft : Math.Min(soft, hard)) - 8;
            ResourceLimits.Set(ResourceLimit.OpenFiles, lowered, hard);

            Assert.That(ResourceLimits.TryRaise(ResourceLimit.OpenFiles, lowered + 4, out long granted), Is.True);
            Assert.That(granted, Is.EqualTo(lowered + 4));
            Assert.That(ResourceLimits.Get(ResourceLimit.OpenFiles), Is.EqualTo((lowered + 4, hard)));
        }
        finally
        {
            ResourceLimits.Set(ResourceLimit.OpenFiles, soft, hard);
        }
    }

    [Test]
    public void TryRaise_above_the_hard_limit_raises_both_with_CAP_SYS_RESOURCE_else_soft_to_hard()
    {
        (long soft, long hard) = ResourceLimits.Get(ResourceLimit.MessageQueueBytes);
        Assume.That(hard, Is.Not.EqualTo(ResourceLimits.Unlimited), "no hard limit to go above");
        long wanted = hard + 4096;
        try
        {
            bool reached = ResourceLimits.TryRaise(ResourceLimit.MessageQueueBytes, wanted, out long granted);
            (long softNow, long hardNow) = ResourceLimits.Get(ResourceLimit.MessageQueueBytes);

            Assert.That(softNow, Is.EqualTo(granted));
            Assert.That(softNow, Is.GreaterThanOrEqualTo(soft), "never lowered");
            Assert.That(hardNow, Is.GreaterThanOrEqualTo(hard), "never lowered");
            if (reached)
            {
                // Privileged (CAP_SYS_RESOURCE): both limits moved up to what was wanted.
                Assert.That((softNow, hardNow), Is.EqualTo((wanted, wanted)));
            }
            else
            {
                // Unprivileged: as far as the hard limit goes.
                Assert.That((softNow, hardNow), Is.EqualTo((hard, hard)));
            }
        }
        finally
        {
            // Lowering the hard limit back is always allowed; raising the soft limit to it as well.
            ResourceLimits.Set(ResourceLimit.MessageQueueBytes, soft, hard);
        }
        Assert.That(ResourceLimits.Get(ResourceLimit.MessageQueueBytes), Is.EqualTo((soft, hard)));
    }

    private static long ParseLimit(string text)
        => text == "unlimited" ? ResourceLimits.Unlimited : long.Parse(text, CultureInfo.InvariantCulture);
}
