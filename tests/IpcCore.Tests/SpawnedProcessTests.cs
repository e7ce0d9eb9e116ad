using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using IpcCore.Native;
using IpcCore.Tests.Infrastructure;
using NUnit.Framework;

namespace IpcCore.Tests;

/// <summary>
/// Children started with posix_spawn. Every child a test starts is ended (SIGKILL to its group or to
/// itself, by pid) and reaped in <see cref="EndEverythingStarted"/>, also when the test fails.
/// </summary>
[TestFixture]
public sealed class SpawnedProcessTests
{
    private static readonly string[] s_trickyWords = ["[%s] [%s] [%s]", "it's", "$HOME `x`", "a b"];

    private const int SIGKILL = 9;
    private const int SIGPIPE = 13;
    private const int SIGTERM = 15;

    private static readonly TimeSpan Patience = Waits.PeerTimeout;

    private readonly List<SpawnedProcess> _started = [];

    [TearDown]
    public void EndEverythingStarted()
    {
        var problems = new List<string>();
        foreach (SpawnedProcess process in _started)
        {
            try
            {
                if (process.IsProcessGroupLeader)
                {
                    process.SignalGroup(SIGKILL);
                }
                process.Signal(SIGKILL);
                // By pid, without the pidfd (a test may have disposed it): SIGKILL ends it promptly.
                DateTime giveUp = DateTime.UtcNow + Patience;
                while (!process.TryReap(out _))
                {
                    if (DateTime.UtcNow > giveUp)
                    {
                        problems.Add($"{process} did not end after SIGKILL");
                        break;
                    }
                    Thread.Sleep(5);
                }
            }
            catch (IpcException e)
            {
                problems.Add($"{process}: {e.Message}");
            }
            process.Dispose();
        }
        _started.Clear();
        Assert.That(problems, Is.Empty, "cleanup of the started processes");
    }

    [Test]
    public void Echo_into_a_pipe_is_read_back()
    {
        (PipeEnd reader, PipeEnd writer) = Pipe.Create();
        using (reader)
        {
            SpawnedProcess echo;
            using (writer)
            {
                echo = Start("echo hi", standardOutput: writer.Handle);
            }
            Assert.That(Encoding.ASCII.GetString(Waits.ReadToEnd(reader)), Is.EqualTo("hi\n"));
            Assert.That(echo.WaitForExit(), Is.EqualTo(new ProcessExit(0, 0)));
            Assert.That(echo.Pid, Is.GreaterThan(0));
            Assert.That(echo.Command, Is.EqualTo("echo hi"));
            Assert.That(echo.IsProcessGroupLeader, Is.False);
        }
    }

    [Test]
    public void Stdin_from_a_pipe_goes_through_cat_into_another_pipe()
    {
        (PipeEnd inReader, PipeEnd inWriter) = Pipe.Create();
        (PipeEnd outReader, PipeEnd outWriter) = Pipe.Create();
        using (inWriter)
        using (outReader)
        {
            SpawnedProcess cat;
            using (inReader)
            using (outWriter)
            {
                cat = Start("cat", standardInput: inReader.Handle, standardOutput: outWriter.Handle);
            }
            inWriter.WriteAll("line one\nline two\n"u8);
            inWriter.Dispose();

            Assert.That(Encoding.ASCII.GetString(Waits.ReadToEnd(outReader)), Is.EqualTo("line one\nline two\n"));
            Assert.That(cat.WaitForExit(), Is.EqualTo(new ProcessExit(0, 0)));
        }
    }

    [Test]
    public void Stop_ends_a_child_with_SIGTERM()
    {
        SpawnedProcess child = Start("exec sleep 30");
        Assert.That(child.Stop(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(5)), Is.EqualTo(new ProcessExit(-1, 15)));
        Assert.That(child.HasExited, Is.True);
    }

    [Test]
    public void Stop_kills_a_child_that_ignores_SIGTERM_after_the_grace()
    {
        (PipeEnd reader, PipeEnd writer) = Pipe.Create();
        using (reader)
        {
            SpawnedProcess child;
            using (writer)
            {
                // Says when the trap is set, so SIGTERM cannot come before it.
                child = Start("trap '' TERM; echo armed; while :; do sleep 1; done", standardOutput: writer.Handle);
            }
            byte[] armed = new byte[6];
            Assert.That(FileDescriptor.Read(reader.Handle, armed), Is.EqualTo(6));
            Assert.That(child.Stop(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5)), Is.EqualTo(new ProcessExit(-1, 9)));
        }
    }

    [Test]
    public void Stop_of_a_child_that_has_exited_reports_how_it_ended()
    {
        SpawnedProcess child = Start("exit 4");
        child.WaitForExit();
        Assert.That(child.Stop(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)), Is.EqualTo(new ProcessExit(4, 0)));
    }

    [Test]
    public void ExecCommand_quotes_every_word_so_the_program_gets_them_verbatim()
    {
        (PipeEnd reader, PipeEnd writer) = Pipe.Create();
        using (reader)
        {
            SpawnedProcess child;
            using (writer)
            {
                child = Start(SpawnedProcess.ExecCommand("/usr/bin/printf", s_trickyWords), standardOutput: writer.Handle);
            }
            Assert.That(Encoding.UTF8.GetString(Waits.ReadToEnd(reader)), Is.EqualTo("[it's] [$HOME `x`] [a b]"));
            Assert.That(child.WaitForExit(), Is.EqualTo(new ProcessExit(0, 0)));
        }
        Assert.That(SpawnedProcess.QuoteForShell("it's"), Is.EqualTo("'it'\\''s'"));
    }

    [Test]
    public void Exit_code_is_reported()
    {
        SpawnedProcess child = Start("exit 3");
        ProcessExit exit = child.WaitForExit();

        Assert.That(exit.ExitCode, Is.EqualTo(3));
        Assert.That(exit.Signal, Is.Zero);
        Assert.That(exit.Exited, Is.True);
        Assert.That(exit.ToString(), Is.EqualTo("exited with code 3"));
    }

    [Test]
    public void Signal_SIGTERM_kills_the_child()
    {
        SpawnedProcess sleeper = Start("exec sleep 100");
        Assert.That(sleeper.Signal(SIGTERM), Is.True);
        ProcessExit exit = sleeper.WaitForExit();

        Assert.That(exit, Is.EqualTo(new ProcessExit(-1, SIGTERM)));
        Assert.That(exit.KilledBySignal, Is.True);
        Assert.That(exit.ToString(), Is.EqualTo("killed by SIGTERM (15)"));
        Assert.That(sleeper.Signal(SIGTERM), Is.False, "reaped: no signal may reach a process that reuses the pid");
    }

    [Test]
    public void The_child_kills_itself_with_SIGTERM()
    {
        ProcessExit exit = Start("kill -TERM $$; exit 7").WaitForExit();
        Assert.That(exit, Is.EqualTo(new ProcessExit(-1, SIGTERM)));
    }

    [Test]
    public void The_child_does_not_inherit_the_runtimes_ignored_SIGPIPE_and_starts_with_nothing_blocked_or_ignored()
    {
        // The premise: the .NET runtime ignores SIGPIPE, and SIG_IGN would survive exec.
        Assert.That(SignalMaskOf("self", "SigIgn") & (1UL << (SIGPIPE - 1)), Is.Not.Zero, "the test host ignores SIGPIPE");

        ProcessExit exit = Start("kill -PIPE $$; exit 7").WaitForExit();
        Assert.That(exit, Is.EqualTo(new ProcessExit(-1, SIGPIPE)));
        Assert.That(exit.ToString(), Is.EqualTo("killed by SIGPIPE (13)"));

        // A program exec'd by the shell starts with nothing blocked and nothing ignored.
        (PipeEnd reader, PipeEnd writer) = Pipe.Create();
        using (writer)
        {
            SpawnedProcess cat;
            using (reader)
            {
                cat = Start("exec cat >/dev/null", standardInput: reader.Handle);
            }
            WaitUntil(() => File.ReadAllText($"/proc/{cat.Pid}/comm").Trim() == "cat", "the shell to exec cat");
            string pid = cat.Pid.ToString(CultureInfo.InvariantCulture);
            Assert.That(SignalMaskOf(pid, "SigBlk"), Is.Zero, "blocked signals");
            Assert.That(SignalMaskOf(pid, "SigIgn"), Is.Zero, "ignored signals");
        }
    }

    [Test]
    public void SignalGroup_ends_a_grandchild_too()
    {
        (PipeEnd reader, PipeEnd writer) = Pipe.Create();
        using (reader)
        {
            SpawnedProcess shell;
            using (writer)
            {
                shell = Start("sleep 100 >/dev/null & echo $!; wait", standardOutput: writer.Handle, newProcessGroup: true);
            }
            int grandchild = int.Parse(ReadLine(reader), CultureInfo.InvariantCulture);
            Assert.That(ProcessGroupOf(grandchild), Is.EqualTo(shell.Pid), "the grandchild is in the child's group");
            Assert.That(ProcessGroupOf(shell.Pid), Is.EqualTo(shell.Pid), "the child leads its group");

            Assert.That(shell.SignalGroup(SIGTERM), Is.True);
            Assert.That(shell.WaitForExit(Patience, out ProcessExit exit), Is.True);
            Assert.That(exit, Is.EqualTo(new ProcessExit(-1, SIGTERM)));
            Assert.That(WaitUntilGone(grandchild), Is.True, $"grandchild {grandchild} is still running");
        }
    }

    [Test]
    public void SignalGroup_is_false_once_the_group_is_empty_and_refused_without_a_group_of_its_own()
    {
        SpawnedProcess leader = Start("exit 0", newProcessGroup: true);
        leader.WaitForExit();
        Assert.That(leader.SignalGroup(SIGTERM), Is.False);

        SpawnedProcess member = Start("exit 0");
        Assert.Throws<InvalidOperationException>(() => member.SignalGroup(SIGTERM));
        member.WaitForExit();
    }

    [Test]
    public void ExitHandle_is_readable_after_the_exit_and_not_before()
    {
        (PipeEnd reader, PipeEnd writer) = Pipe.Create();
        using (writer)
        {
            SpawnedProcess cat;
            using (reader)
            {
                cat = Start("exec cat >/dev/null", standardInput: reader.Handle);
            }
            Assert.That(FileDescriptor.IsCloseOnExec(cat.ExitHandle), Is.True);
            Assert.That(FileDescriptor.Poll(cat.ExitHandle, PollEvents.POLLIN, 0), Is.EqualTo((PollEvents)0));
            Assert.That(cat.TryReap(out _), Is.False);
            Assert.That(cat.HasExited, Is.False);

            writer.Dispose(); // cat reads end of file and exits
            Assert.That(FileDescriptor.Poll(cat.ExitHandle, PollEvents.POLLIN, (int)Patience.TotalMilliseconds) & PollEvents.POLLIN,
                Is.EqualTo(PollEvents.POLLIN));
            Assert.That(cat.TryReap(out ProcessExit exit), Is.True);
            Assert.That(exit, Is.EqualTo(new ProcessExit(0, 0)));
            Assert.That(cat.TryReap(out ProcessExit again), Is.True);
            Assert.That(again, Is.EqualTo(exit));
            Assert.That(cat.HasExited, Is.True);
            Assert.That(cat.WaitForExit(), Is.EqualTo(exit));
        }
    }

    [Test]
    public void ExitHandle_wakes_an_epoll_set()
    {
        using EpollSet epoll = EpollSet.Create();
        SpawnedProcess child = Start("exit 4");
        epoll.Add(child.ExitHandle, PollEvents.POLLIN, 42);
        Span<EpollEvent> events = stackalloc EpollEvent[4];

        Assert.That(epoll.Wait(events, (int)Patience.TotalMilliseconds), Is.EqualTo(1));
        Assert.That(events[0].Data, Is.EqualTo(42UL));
        Assert.That(child.TryReap(out ProcessExit exit), Is.True);
        Assert.That(exit.ExitCode, Is.EqualTo(4));
    }

    [Test]
    public void WaitForExit_times_out_on_a_running_child()
    {
        SpawnedProcess sleeper = Start("exec sleep 100", newProcessGroup: true);

        Assert.That(sleeper.WaitForExit(TimeSpan.FromMilliseconds(50), out _), Is.False);
        Assert.That(sleeper.WaitForExit(TimeSpan.Zero, out _), Is.False);
        Assert.That(sleeper.HasExited, Is.False);

        Assert.That(sleeper.SignalGroup(SIGKILL), Is.True);
        Assert.That(sleeper.WaitForExit(Patience, out ProcessExit exit), Is.True);
        Assert.That(exit.ToString(), Is.EqualTo("killed by SIGKILL (9)"));
    }

    [Test]
    public void Dispose_closes_the_ExitHandle_but_neither_ends_nor_forgets_the_child()
    {
        (PipeEnd reader, PipeEnd writer) = Pipe.Create();
        using (writer)
        {
            SpawnedProcess cat;
            using (reader)
            {
                cat = Start("exec cat >/dev/null", standardInput: reader.Handle);
            }
            cat.Dispose();
            Assert.That(cat.ExitHandle.IsClosed, Is.True);
            Assert.That(ProcessInfo.IsAlive(cat.Pid), Is.True);
            Assert.Throws<ObjectDisposedException>(() => cat.WaitForExit(TimeSpan.Zero, out _));
            Assert.That(cat.Signal(SIGTERM), Is.True);
            // TryReap still works by pid (the teardown waits too; this checks the status).
            DateTime giveUp = DateTime.UtcNow + Patience;
            ProcessExit exit;
            while (!cat.TryReap(out exit) && DateTime.UtcNow < giveUp)
            {
                Thread.Sleep(5);
            }
            Assert.That(exit, Is.EqualTo(new ProcessExit(-1, SIGTERM)));
        }
    }

    [Test]
    public void A_closed_descriptor_fails_posix_spawn_with_a_message_naming_the_command()
    {
        // A number far beyond any descriptor table (a just-closed one could be reused by a parallel test).
        using var stale = new SafeFdHandle(1 << 30, ownsHandle: false);

        IpcException e = Assert.Throws<IpcException>(() => Start("true", standardInput: stale))!;
        Assert.That(e.Errno, Is.EqualTo(Errno.EBADF));
        Assert.That(e.Message, Is.EqualTo("posix_spawn('/bin/sh -c true'): EBADF (Bad file descriptor)"));
    }

    [Test]
    public void Disposed_and_invalid_handles_and_NUL_are_rejected_before_spawning()
    {
        (PipeEnd reader, PipeEnd writer) = Pipe.Create();
        reader.Dispose();
        using (writer)
        {
            Assert.Throws<ObjectDisposedException>(() => Start("true", standardInput: reader.Handle));
        }
        using var invalid = new SafeFdHandle();
        Assert.Throws<ArgumentException>(() => Start("true", standardOutput: invalid));
        Assert.Throws<ArgumentException>(() => Start("echo a\0b"));
        Assert.Throws<ArgumentNullException>(() => Start(null!));
    }

    [Test]
    public void ProcessExit_names_common_signals_and_numbers_the_rest()
    {
        Assert.That(new ProcessExit(0, 0).ToString(), Is.EqualTo("exited with code 0"));
        Assert.That(new ProcessExit(-1, 9).ToString(), Is.EqualTo("killed by SIGKILL (9)"));
        Assert.That(new ProcessExit(-1, 2).ToString(), Is.EqualTo("killed by SIGINT (2)"));
        Assert.That(new ProcessExit(-1, 42).ToString(), Is.EqualTo("killed by signal 42"));
        Assert.That(ProcessExit.SignalName(6), Is.EqualTo("SIGABRT"));
        Assert.That(ProcessExit.SignalName(64), Is.Null);
    }

    private SpawnedProcess Start(string command, SafeHandle? standardInput = null, SafeHandle? standardOutput = null,
        SafeHandle? standardError = null, bool newProcessGroup = false)
    {
        SpawnedProcess process = SpawnedProcess.Start(command, standardInput, standardOutput, standardError, newProcessGroup);
        _started.Add(process);
        return process;
    }

    // One line from a pipe, without waiting for end of stream (a grandchild may still hold the write end).
    private static string ReadLine(PipeEnd reader)
    {
        var line = new StringBuilder();
        byte[] one = new byte[1];
        while (true)
        {
            if (FileDescriptor.Poll(reader.Handle, PollEvents.POLLIN, (int)Patience.TotalMilliseconds) == 0)
            {
                throw new TimeoutException($"no line on {reader} within {Patience}");
            }
            if (reader.Read(one) == 0 || one[0] == (byte)'\n')
            {
                return line.ToString();
            }
            line.Append((char)one[0]);
        }
    }

    // A field of /proc/<pid>/status holding a signal mask in hex (SigIgn, SigBlk).
    private static ulong SignalMaskOf(string pid, string field)
    {
        string line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return ulong.Parse(line[(field.Length + 1)..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
    }

    // Field 5 of /proc/<pid>/stat (after the parenthesised command name, which may contain spaces).
    private static int ProcessGroupOf(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[2], CultureInfo.InvariantCulture); // state, ppid, pgrp
    }

    // Whether pid has ended (gone, or a zombie waiting for its new parent) within the patience.
    private static bool WaitUntilGone(int pid)
    {
        DateTime giveUp = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < giveUp)
        {
            string stat;
            try
            {
                stat = File.ReadAllText($"/proc/{pid}/stat");
            }
            catch (IOException)
            {
                return true; // FileNotFound, DirectoryNotFound: no such process
            }
            char state = stat[stat.LastIndexOf(')') + 2];
            if (state is 'Z' or 'X')
            {
                return true;
            }
            Thread.Sleep(5);
        }
        return false;
    }

    private static void WaitUntil(Func<bool> condition, string what)
    {
        DateTime giveUp = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > giveUp)
            {
                throw new TimeoutException($"gave up waiting for {what} after {Patience}");
            }
            Thread.Sleep(5);
        }
    }
}
