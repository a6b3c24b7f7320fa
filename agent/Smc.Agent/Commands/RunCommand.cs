using Smc.Agent.Control;
using Smc.Agent.Platform;
using Smc.Wire.Agent;
using Smc.Wire.Inventory;

namespace Smc.Agent.Commands;

/// <summary>
/// <c>smc-agent run</c>: the long-running mode. Heartbeats at the control plane's rate, picks up commands,
/// and when the control plane is down keeps retrying with exponential backoff (1 s … 60 s, jittered).
/// </summary>
internal static class RunCommand
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(60);

    public static async Task<int> RunAsync(string configPath, TextWriter log, CancellationToken cancellationToken)
    {
        AgentConfig config = AgentConfig.LoadRequired(configPath);
        using var client = new ControlPlaneClient(config.Server, TimeSpan.FromSeconds(20));
        List<DiskInfo>? disks = TryInspect(config, log);
        string? lastState = null;
        int failures = 0;
        Log(log, $"smc-agent {AgentInfo.Version} running as {config.SourceId} against {config.Server}");

        while (!cancellationToken.IsCancellationRequested)
        {
            TimeSpan wait;
            try
            {
                HeartbeatResponse response = await client.HeartbeatAsync(
                    config.Credential,
                    new HeartbeatRequest { AgentVersion = AgentInfo.Version, SystemInfo = SystemProbe.Collect(), Disks = disks },
                    cancellationToken);
                disks = null;
                if (failures > 0 || response.State != lastState)
                {
                    Log(log, failures > 0 ? $"control plane reachable again; source is {response.State}" : $"heartbeat ok; source is {response.State}");
                }

                failures = 0;
                lastState = response.State;
                wait = TimeSpan.FromSeconds(Math.Max(1, response.HeartbeatRate));
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
                await Task.Delay(wait, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        Log(log, "stopped");
        return ExitCodes.Ok;
    }

    internal static TimeSpan Backoff(int failures)
    {
        double seconds = Math.Min(MaxBackoff.TotalSeconds, Math.Pow(2, Math.Min(failures - 1, 10)));
        return TimeSpan.FromSeconds(seconds * (0.8 + (Random.Shared.NextDouble() * 0.4)));
    }

    private static List<DiskInfo>? TryInspect(AgentConfig config, TextWriter log)
    {
        try
        {
            return DiskDiscovery.Inspect(config.Disks);
        }
        catch (AgentException e)
        {
            Log(log, $"disk inventory not refreshed: {e.Message}");
            return null;
        }
    }

    private static void Log(TextWriter log, string message) =>
        log.WriteLine($"{DateTimeOffset.UtcNow:yyyy-MM-ddTHH:mm:ssZ} {message}");
}
