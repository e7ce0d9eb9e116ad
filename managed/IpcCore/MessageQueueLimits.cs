namespace IpcCore;

/// <summary>
/// The message-queue limits of this system (/proc/sys/fs/mqueue). An unprivileged process cannot
/// create a queue deeper than <see cref="MaxMessages"/> or with messages larger than
/// <see cref="MaxMessageSize"/> (the defaults are 10 and 8192); a process with CAP_SYS_RESOURCE can,
/// up to the kernel's hard limits.
/// </summary>
/// <param name="MaxMessages">msg_max: the deepest queue an unprivileged caller may create.</param>
/// <param name="MaxMessageSize">msgsize_max: the largest message size an unprivileged caller may ask for.</param>
/// <param name="DefaultMaxMessages">msg_default: the depth of a queue created without attributes.</param>
/// <param name="DefaultMessageSize">msgsize_default: the message size of a queue created without attributes.</param>
/// <param name="MaxQueues">queues_max: queues per IPC namespace.</param>
public readonly record struct MessageQueueLimits(
    long MaxMessages, long MaxMessageSize, long DefaultMaxMessages, long DefaultMessageSize, long MaxQueues);
