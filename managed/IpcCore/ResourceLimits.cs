using IpcCore.Native;

namespace IpcCore;

/// <summary>A per-process resource limit that <see cref="ResourceLimits"/> reads and raises (getrlimit(2)/setrlimit(2)).</summary>
public enum ResourceLimit
{
    /// <summary>RLIMIT_NOFILE: how many descriptors this process may have open (one more than the highest number).</summary>
    OpenFiles = Native.ResourceLimit.RLIMIT_NOFILE,

    /// <summary>RLIMIT_MSGQUEUE: how many bytes of POSIX message queues this process's user may create (EMFILE from mq_open beyond it).</summary>
    MessageQueueBytes = Native.ResourceLimit.RLIMIT_MSGQUEUE,
}

/// <summary>
/// This process's resource limits. Each has a soft limit (the one enforced) and a hard limit (the
/// ceiling for the soft one): anyone may move the soft limit up to the hard limit and lower either, only
/// a process with CAP_SYS_RESOURCE may raise the hard limit. <see cref="Unlimited"/> (-1) is RLIM_INFINITY.
/// Children started afterwards inherit the limits.
/// </summary>
public static class ResourceLimits
{
    /// <summary>The value of an unlimited limit (RLIM_INFINITY).</summary>
    public const long Unlimited = -1;

    /// <summary>The soft and hard limit of <paramref name="resource"/>; <see cref="Unlimited"/> (-1) when there is none.</summary>
    public static unsafe (long Soft, long Hard) Get(ResourceLimit resource)
    {
        ValidateResource(resource);
        long soft = 0, hard = 0;
        IpcError.Check(IpcNative.GetResourceLimit((int)resource, &soft, &hard), "getrlimit", NameOf(resource));
        return (soft, hard);
    }

    /// <summary>Sets the soft and hard limit of <paramref name="resource"/> (each &gt;= 0, or <see cref="Unlimited"/>).</summary>
    /// <exception cref="IpcException">EINVAL when soft is above hard; EPERM when raising hard without CAP_SYS_RESOURCE.</exception>
    public static void Set(ResourceLimit resource, long soft, long hard)
    {
        ValidateResource(resource);
        ArgumentOutOfRangeException.ThrowIfLessThan(soft, Unlimited);
        ArgumentOutOfRangeException.ThrowIfLessThan(hard, Unlimited);
        IpcError.Check(IpcNative.SetResourceLimit((int)resource, soft, hard), "setrlimit", NameOf(resource));
    }

    /// <summary>
    /// Raises the soft limit of <paramref name="resource"/> to at least <paramref name="wanted"/> (&gt;= 0, or
    /// <see cref="Unlimited"/>) as far as allowed, and never lowers anything. Above the hard limit it first
    /// tries to raise both to <paramref name="wanted"/> (which needs CAP_SYS_RESOURCE); failing that it raises
    /// the soft limit to the hard limit. <paramref name="granted"/> is the soft limit afterwards.
    /// </summary>
    /// <returns>Whether <paramref name="granted"/> reaches <paramref name="wanted"/>.</returns>
    public static bool TryRaise(ResourceLimit resource, long wanted, out long granted)
    {
        ValidateResource(resource);
        ArgumentOutOfRangeException.ThrowIfLessThan(wanted, Unlimited);
        (long soft, long hard) = Get(resource);
        if (Covers(soft, wanted))
        {
            granted = soft;
            return true;
        }
        if (!Covers(hard, wanted))
        {
            int result = IpcNative.SetResourceLimit((int)resource, wanted, wanted);
            if (result == 0)
            {
                granted = wanted;
                return true;
            }
            // EPERM: no CAP_SYS_RESOURCE (or RLIMIT_NOFILE above /proc/sys/fs/nr_open); make do with the hard limit.
            if (result != -(int)Errno.EPERM)
            {
                IpcError.Throw(result, "setrlimit", NameOf(resource));
            }
        }
        long target = Covers(hard, wanted) ? wanted : hard;
        if (target != soft)
        {
            Set(resource, target, hard);
        }
        granted = target;
        return Covers(granted, wanted);
    }

    // Whether limit allows at least value, with Unlimited (-1) above everything.
    private static bool Covers(long limit, long value)
        => limit == Unlimited || (value != Unlimited && limit >= value);

    private static string NameOf(ResourceLimit resource) => resource switch
    {
        ResourceLimit.OpenFiles => "RLIMIT_NOFILE",
        ResourceLimit.MessageQueueBytes => "RLIMIT_MSGQUEUE",
        _ => resource.ToString(),
    };

    private static void ValidateResource(ResourceLimit resource)
    {
        if (resource is not (ResourceLimit.OpenFiles or ResourceLimit.MessageQueueBytes))
        {
            throw new ArgumentOutOfRangeException(nameof(resource), resource, "Not a known resource limit.");
        }
    }
}
