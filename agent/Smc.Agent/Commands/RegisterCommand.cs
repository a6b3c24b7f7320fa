using Smc.Agent.Control;
using Smc.Agent.Platform;
using Smc.Wire.Agent;
using Smc.Wire.Boot;
using Smc.Wire.Inventory;
using Spectre.Console;

namespace Smc.Agent.Commands;

/// <summary><c>smc-agent register</c>: trade an activation code for this source's credential, kept 0600 in the config file.</summary>
internal static class RegisterCommand
{
    public static async Task<int> RunAsync(string server, string code, IReadOnlyList<string> disks, string? name, bool force, string configPath, IAnsiConsole console, CancellationToken cancellationToken, string? root = null, PreflightReport? preflight = null)
    {
        AgentConfig? existing = AgentConfig.Load(configPath);
        if (existing is not null && !force)
        {
            throw new AgentException(ExitCodes.Usage, $"Already registered as {existing.SourceId} with {existing.Server} ({configPath}). Pass --force to register again as a new source.");
        }

        (List<DiskInfo> found, List<SkippedDisk> skipped) = DiskDiscovery.InspectDiscovered(disks);
        foreach (SkippedDisk s in skipped)
        {
            console.MarkupLineInterpolated($"[yellow]skipped:[/] {s.Reason} Registering without it.");
        }

        var request = new RegisterRequest
        {
            Name = name,
            AgentVersion = AgentInfo.Version,
            Platform = SystemProbe.PlatformFamily,
            OsName = SystemProbe.OsName(),
            Architecture = SystemProbe.Architecture,
            KernelLevel = SystemProbe.KernelLevel,
            SystemInfo = SystemProbe.Collect(),
            Disks = found,
        };

        using var client = new ControlPlaneClient(server);
        RegisterResponse response = await ControlPlaneClient.ShortRetry.ExecuteAsync(
            async ct => await client.RegisterAsync(code, request, ct), cancellationToken);

        new AgentConfig
        {
            Server = server.TrimEnd('/'),
            SourceId = response.SourceId,
            Credential = response.Credential,
            HeartbeatRate = response.HeartbeatRate,
            Disks = [.. disks],
            Root = root is null ? null : Path.GetFullPath(root),
        }.Save(configPath);

        console.MarkupLineInterpolated($"Registered as source server [bold]{response.SourceId}[/] with {request.Disks.Count} disk(s); credential saved in {configPath}.");

        // A source captured file by file (--root, a container image) doesn't boot a kernel: no boot checks for it.
        if (root is null)
        {
            preflight ??= CheckCommand.Report(null, disks, console);
            preflight = await Check.StagingThroughput.AddAsync(preflight, client, response.Credential, cancellationToken);
            await CheckCommand.PostAsync(client, response.Credential, preflight, console, cancellationToken);
            console.WriteLine(CheckCommand.Summary(preflight));
        }

        return ExitCodes.Ok;
    }
}
