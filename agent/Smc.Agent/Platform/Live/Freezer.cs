using System.Diagnostics;

namespace Smc.Agent.Platform.Live;

/// <summary>
/// File systems frozen with <c>FIFREEZE</c> (which flushes them and leaves nothing for a journal to replay) until
/// <see cref="Thaw"/> or <see cref="Dispose"/>. The caller arms a <see cref="FreezeWatchdog"/> first: it thaws them if
/// this process dies or overruns the bound while they are frozen.
/// </summary>
internal sealed class FrozenVolumes : IDisposable
{
    private readonly List<(LiveVolume Volume, int Fd)> _frozen = [];

    private FrozenVolumes()
    {
    }

    /// <summary>The volumes that refused to freeze, with why (a file system without freeze support, or one frozen by someone else).</summary>
    public List<(LiveVolume Volume, string Reason)> Refused { get; } = [];

    /// <summary>When the first volume was frozen.</summary>
    public DateTimeOffset FrozenAt { get; private set; }

    public static FrozenVolumes Freeze(IEnumerable<LiveVolume> volumes)
    {
        var result = new FrozenVolumes { FrozenAt = DateTimeOffset.UtcNow };
        try
        {
            foreach (LiveVolume v in volumes)
            {
                int fd;
                try
                {
                    fd = LinuxNative.OpenReadOnly(v.MountPoint);
                }
                catch (IOException e)
                {
                    result.Refused.Add((v, e.Message));
                    continue;
                }

                int error = LinuxNative.IoctlInt(fd, LinuxNative.FiFreeze);
                if (error == 0)
                {
                    result._frozen.Add((v, fd));
                    continue;
                }

                LinuxNative.CloseFd(fd);
                result.Refused.Add((v, error switch
                {
                    LinuxNative.EOPNOTSUPP or LinuxNative.ENOTTY => $"{v.FileSystem} on {v.MountPoint} can't be frozen",
                    LinuxNative.EBUSY => $"{v.MountPoint} is frozen already by another program",
                    _ => $"FIFREEZE on {v.MountPoint} failed (errno {error})",
                }));
            }
        }
        catch
        {
            result.Thaw();
            throw;
        }

        return result;
    }

    /// <summary>Thaws every volume this froze, in reverse order; safe to call twice.</summary>
    public void Thaw()
    {
        for (int i = _frozen.Count - 1; i >= 0; i--)
        {
            _ = LinuxNative.IoctlInt(_frozen[i].Fd, LinuxNative.FiThaw);
            LinuxNative.CloseFd(_frozen[i].Fd);
        }

        _frozen.Clear();
    }

    public void Dispose() => Thaw();

    /// <summary>Thaws a mount point this process didn't freeze (the watchdog); EINVAL (not frozen) counts as thawed.</summary>
    public static bool ThawPath(string mountPoint)
    {
        try
        {
            int fd = LinuxNative.OpenReadOnly(mountPoint);
            try
            {
                int error = LinuxNative.IoctlInt(fd, LinuxNative.FiThaw);
                return error is 0 or LinuxNative.EINVAL;
            }
            finally
            {
                LinuxNative.CloseFd(fd);
            }
        }
        catch (IOException)
        {
            return false;
        }
    }
}

/// <summary>
/// A child process (<c>smc-agent watchdog</c>) armed before a freeze: it thaws the mount points when the agent closes
/// its end of the pipe without disarming it — the agent died, even by SIGKILL, which no handler sees — or when the
/// bound passes. A server is never left frozen because the agent stopped.
/// </summary>
internal sealed class FreezeWatchdog : IDisposable
{
    private const string Armed = "armed";
    private const string DisarmLine = "disarm";
    private readonly Process _process;
    private bool _done;

    private FreezeWatchdog(Process process) => _process = process;

    /// <summary>Starts the watchdog and waits until it listens; null when it can't run (then the caller must not freeze).</summary>
    public static FreezeWatchdog? Arm(IReadOnlyList<string> mountPoints, TimeSpan bound, out string? whyNot)
    {
        whyNot = null;
        string? self = Environment.ProcessPath;
        if (self is null || Path.GetFileNameWithoutExtension(self) is "dotnet" or "testhost")
        {
            whyNot = "the agent's own executable is not known, so no watchdog can run";
            return null;
        }

        var start = new ProcessStartInfo(self) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add("watchdog");
        start.ArgumentList.Add("--thaw-after-ms");
        start.ArgumentList.Add(((long)bound.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (string m in mountPoints)
        {
            start.ArgumentList.Add(m);
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            whyNot = $"the watchdog can't start ({e.Message})";
            return null;
        }

        Task<string?> line = process.StandardOutput.ReadLineAsync();
        if (!line.Wait(TimeSpan.FromSeconds(30)) || line.Result != Armed)
        {
            process.Kill();
            process.Dispose();
            whyNot = "the watchdog didn't start listening";
            return null;
        }

        return new FreezeWatchdog(process);
    }

    /// <summary>The freeze is over (thawed by the agent): the watchdog exits without touching anything.</summary>
    public void Disarm()
    {
        if (_done)
        {
            return;
        }

        _done = true;
        try
        {
            _process.StandardInput.WriteLine(DisarmLine);
            _process.StandardInput.Flush();
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // It is gone already (it thawed on its bound).
        }

        _process.WaitForExit(5000);
    }

    public void Dispose()
    {
        if (!_done)
        {
            // Not disarmed: closing the pipe makes it thaw at once.
            _done = true;
            try
            {
                _process.StandardInput.Close();
            }
            catch (IOException)
            {
            }

            _process.WaitForExit(5000);
        }

        _process.Dispose();
    }

    /// <summary>
    /// The child's side: says it listens, then waits for "disarm" on stdin. End of input (the agent is gone) or the bound
    /// passing thaws every mount point. Exit code 0 when disarmed, 3 when it thawed.
    /// </summary>
    public static int RunChild(TimeSpan bound, IReadOnlyList<string> mountPoints, TextWriter log)
    {
        Console.Out.WriteLine(Armed);
        Console.Out.Flush();
        Task<string?> line = Task.Run(Console.In.ReadLine);
        bool answered = line.Wait(bound);
        if (answered && line.Result == DisarmLine)
        {
            return 0;
        }

        foreach (string m in mountPoints)
        {
            bool thawed = FrozenVolumes.ThawPath(m);
            log.WriteLine($"{DateTimeOffset.UtcNow:yyyy-MM-ddTHH:mm:ssZ} smc-agent watchdog: {(answered ? "the agent went away" : $"freeze bound of {bound.TotalSeconds:0.#} s passed")}; {m} {(thawed ? "thawed" : "could not be thawed")}");
        }

        return 3;
    }
}
