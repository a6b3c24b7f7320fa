using System.Diagnostics;
using Smc.Agent.Control;
using Smc.Agent.Platform;
using Smc.Agent.Replication;
using Smc.Wire.Agent;
using Smc.Wire.Inventory;

namespace Smc.Agent.Commands;

/// <summary>
/// <c>smc-agent run</c>: the long-running mode. Heartbeats at the control plane's rate, runs the commands it
/// hands out (one round at a time, withdrawn commands are cancelled), and when the control plane is down
/// keeps retrying with exponential backoff (1 s … 60 s, jittered).
/// </summary>
internal static class RunCommand
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(60);

    /// <summary>Longest hold asked of an idle heartbeat (the control plane caps it at its heartbeat rate; under the 20 s HTTP timeout).</summary>
    private const int LongPollSeconds = 15;

    /// <summary>Longest gap between a watching one-shot agent's heartbeats (below the control plane's rate when that is longer).</summary>
    internal static readonly TimeSpan WatchHeartbeatCap = TimeSpan.FromSeconds(5);

    public static Task<int> RunAsync(string configPath, TextWriter log, CancellationToken cancellationToken) =>
        LoopAsync(configPath, log, until: null, cancellationToken);

    /// <param name="until">Checked after each heartbeat; the loop ends when it returns true (one-shot migrate).</param>
    public static async Task<int> LoopAsync(string configPath, TextWriter log, Func<ControlPlaneClient, AgentConfig, CancellationToken, Task<bool>>? until, CancellationToken cancellationToken)
    {
        AgentConfig config = AgentConfig.LoadRequired(configPath);
        string stateDir = StateDirectory.Ensure(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(configPath))!, "state"));
        using var client = new ControlPlaneClient(config.Server, TimeSpan.FromSeconds(20));
        List<DiskInfo>? disks = TryInspect(config, log);
        string? lastState = null;
        int failures = 0;
        Running? running = null;
        bool started = false;
        var retryAt = new Dictionary<string, DateTimeOffset>();
        Stopwatch? sinceHeartbeat = null;
        TimeSpan heartbeatEvery = WatchHeartbeatCap;

        // Write trackers of live disks, kept from one round's freeze to the job's next round (no rescan between them).
        using var trackers = new LiveTrackers();
        Log(log, $"smc-agent {AgentInfo.Version} running as {config.SourceId} against {config.Server}");

        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                TimeSpan wait;
                // Idle, the heartbeat is a long poll: the control plane answers as soon as it has a command for this
                // source, so a round starts at once rather than at the next heartbeat. Busy (a round runs), it is not.
                // One-shot mode long-polls only for its first command: after that it watches its job, and a held
                // heartbeat would only delay seeing it finish.
                bool idle = (running is null || running.Task.IsCompleted) && (until is null || !started);
                // One-shot mode, its round done, watches its job each second; the source still heartbeats, but at the
                // control plane's rate (at most WatchHeartbeatCap apart, so a command given again is taken soon), not
                // with every look (a heartbeat reads and writes the source's record; a look reads the job's).
                bool watching = until is not null && started && (running is null || running.Task.IsCompleted);
                bool heartbeatDue = !watching || sinceHeartbeat is null || sinceHeartbeat.Elapsed >= heartbeatEvery;
                var sent = Stopwatch.StartNew();
                try
                {
                    if (!heartbeatDue)
                    {
                        wait = TimeSpan.FromSeconds(1);
                    }
                    else
                    {
                        HeartbeatResponse response = await client.HeartbeatAsync(
                            config.Credential,
                            new HeartbeatRequest { AgentVersion = AgentInfo.Version, SystemInfo = SystemProbe.Collect(), Disks = disks, WaitSeconds = idle ? LongPollSeconds : null },
                            cancellationToken);
                        disks = null;
                        if (failures > 0 || response.State != lastState)
                        {
                            Log(log, failures > 0 ? $"control plane reachable again; source is {response.State}" : $"heartbeat ok; source is {response.State}");
                        }

                        failures = 0;
                        lastState = response.State;
                        // One heartbeat per rate, however long the control plane held this one.
                        wait = TimeSpan.FromSeconds(Math.Max(1, response.HeartbeatRate)) - sent.Elapsed;
                        wait = wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
                        StateDirectory.SweepSpools(stateDir, response.Commands.Where(c => c.JobId is not null).Select(c => (c.JobId!, c.Round)), m => Log(log, m));
                        running = Dispatch(running, response.Commands, config, client, stateDir, log, retryAt, trackers, cancellationToken);
                        started |= running is not null;
                        if (running is not null && !running.Task.IsCompleted)
                        {
                            wait = TimeSpan.FromSeconds(Math.Min(wait.TotalSeconds, 5));
                        }

                        sinceHeartbeat = sent;
                        heartbeatEvery = TimeSpan.FromSeconds(Math.Min(Math.Max(1, response.HeartbeatRate), WatchHeartbeatCap.TotalSeconds));
                    }

                    if (until is not null && (running is null || running.Task.IsCompleted))
                    {
                        if (await until(client, config, cancellationToken))
                        {
                            break;
                        }

                        // One-shot mode: the operator is watching; look again soon rather than at the heartbeat rate.
                        wait = TimeSpan.FromSeconds(Math.Min(wait.TotalSeconds, 1));
                    }
                }
                catch (ControlPlaneException e) when (e.IsTransient)
                {
                    failures++;
                    wait = Backoff(failures);
                    Log(log, $"heartbeat failed ({e.Message}); retrying in {wait.TotalSeconds:0} s");
                }
                catch (ControlPlaneException e) when (e.Status is 401 or 403)
                {
                    throw new AgentException(ExitCodes.Refused, $"The control plane refused this agent's credential ({e.Message}). Register again: smc-agent register --force --server URL --code CODE.", e);
                }
                catch (ControlPlaneException e)
                {
                    failures++;
                    wait = Backoff(failures);
                    Log(log, $"heartbeat refused ({e.Message}); retrying in {wait.TotalSeconds:0} s");
                }

                try
                {
                    Task delay = Task.Delay(wait, cancellationToken);
                    await (running is null || running.Task.IsCompleted ? delay : Task.WhenAny(delay, running.Task));
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
        finally
        {
            if (running is not null)
            {
                await running.Cancel.CancelAsync();
                await Task.WhenAny(running.Task, Task.Delay(TimeSpan.FromSeconds(10), CancellationToken.None));
                running.Cancel.Dispose();
            }
        }

        Log(log, "stopped");
        return cancellationToken.IsCancellationRequested ? ExitCodes.Interrupted : ExitCodes.Ok;
    }

    /// <summary>Starts the first pending command if none runs; cancels a running one the control plane withdrew.</summary>
    private static Running? Dispatch(Running? running, List<AgentCommand> commands, AgentConfig config, ControlPlaneClient client, string stateDir,
        TextWriter log, Dictionary<string, DateTimeOffset> retryAt, LiveTrackers trackers, CancellationToken cancellationToken)
    {
        if (running is not null && !running.Task.IsCompleted)
        {
            if (commands.All(c => c.CommandId != running.CommandId))
            {
                Log(log, $"command {running.CommandId} withdrawn by the control plane; stopping it");
                running.Cancel.Cancel();
            }

            return running;
        }

        if (running is not null)
        {
            if (running.Task.IsFaulted)
            {
                Exception e = running.Task.Exception!.GetBaseException();
                Log(log, $"command {running.CommandId} failed: {e.Message}");
                retryAt[running.CommandId] = DateTimeOffset.UtcNow + RetryDelay(e);
            }

            running.Cancel.Dispose();
            running = null;
        }

        AgentCommand? next = commands.FirstOrDefault(c => c.Type == AgentCommandTypes.Replicate
            && (!retryAt.TryGetValue(c.CommandId, out DateTimeOffset at) || at <= DateTimeOffset.UtcNow));
        if (next is null)
        {
            return null;
        }

        var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var runner = new RoundRunner(config, client, next, stateDir, log) { Trackers = trackers };
        Log(log, $"command {next.CommandId}: replicate {string.Join(", ", next.Disks)}");
        return new Running(next.CommandId, Task.Run(() => runner.RunAsync(cts.Token), cts.Token), cts);
    }

    /// <summary>
    /// How long a failed command waits before it is taken again while the control plane still offers it: 30 s, so a
    /// command that fails for good doesn't loop; but a refusal for the job's state (a start right after a stop: the
    /// command was offered by the ending execution, the new one issues the same round) is a race that the next
    /// heartbeat settles, so that one is taken again after 2 s.
    /// </summary>
    internal static TimeSpan RetryDelay(Exception failure) =>
        failure is ControlPlaneException { Code: JobStatusRefused } ? TimeSpan.FromSeconds(2) : TimeSpan.FromSeconds(30);

    /// <summary>The control plane's code for "the job's state allows no upload now".</summary>
    internal const string JobStatusRefused = "OperationDenied.JobStatus";

    internal static TimeSpan Backoff(int failures)
    {
        double seconds = Math.Min(MaxBackoff.TotalSeconds, Math.Pow(2, Math.Min(failures - 1, 10)));
        return TimeSpan.FromSeconds(seconds * (0.8 + (Random.Shared.NextDouble() * 0.4)));
    }

    private static List<DiskInfo>? TryInspect(AgentConfig config, TextWriter log)
    {
        try
        {
            (List<DiskInfo> disks, List<SkippedDisk> skipped) = DiskDiscovery.InspectDiscovered(config.Disks);
            foreach (SkippedDisk s in skipped)
            {
                Log(log, $"disk skipped in the inventory: {s.Reason}");
            }

            return disks;
        }
        catch (AgentException e)
        {
            Log(log, $"disk inventory not refreshed: {e.Message}");
            return null;
        }
    }

    internal static void Log(TextWriter log, string message) =>
        log.WriteLine($"{DateTimeOffset.UtcNow:yyyy-MM-ddTHH:mm:ssZ} {message}");

    private sealed record Running(string CommandId, Task<string> Task, CancellationTokenSource Cancel);
}
