using System.Text.Json;
using System.Text.Json.Nodes;
using Smc.Agent.Control;

namespace Smc.Agent.Commands;

/// <summary>Job options of <c>smc-agent migrate</c>, as kebab-case flags (docs/api.md).</summary>
internal sealed record MigrateOptions(string? Name, string? ImageName, int? SystemDiskSize, int? Threads, int? BandwidthLimitKBps, int? CompressLevel, bool Json,
    JsonObject? Fields = null, string? Root = null, bool Force = false);

/// <summary>
/// <c>smc-agent migrate</c>: SMC's one-time job. Registers if needed, creates the job for this source (or finds
/// the one an earlier run created), runs it to the end in the foreground and prints the result. A re-run after
/// Ctrl+C or a crash resumes: same job, acknowledged data is not sent again.
/// </summary>
internal static class MigrateCommand
{
    public static async Task<int> RunAsync(string server, string code, IReadOnlyList<string> disks, MigrateOptions options, string configPath, TextWriter log, CancellationToken cancellationToken)
    {
        AgentConfig? config = AgentConfig.Load(configPath);
        var console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings { Out = new Spectre.Console.AnsiConsoleOutput(log) });
        Smc.Wire.Boot.PreflightReport? preflight = Preflight(disks.Count > 0 ? disks : config?.Disks ?? [], options, console);
        if (config is null)
        {
            await RegisterCommand.RunAsync(server, code, disks, options.Name, force: false, configPath, console, cancellationToken, options.Root, preflight);
            config = AgentConfig.LoadRequired(configPath);
        }
        else if (!string.Equals(config.Server, server.TrimEnd('/'), StringComparison.OrdinalIgnoreCase))
        {
            throw new AgentException(ExitCodes.Usage, $"{configPath} is registered with {config.Server}, not {server}. Use another --config or register again with --force.");
        }

        else if (preflight is not null)
        {
            using var reporter = new ControlPlaneClient(config.Server);
            preflight = await Check.StagingThroughput.AddAsync(preflight, reporter, config.Credential, cancellationToken);
            await CheckCommand.PostAsync(reporter, config.Credential, preflight, console, cancellationToken);
        }

        string clientToken = config.MigrateClientToken ?? Guid.NewGuid().ToString("N");
        if (config.MigrateClientToken is null)
        {
            config.MigrateClientToken = clientToken;
            config.Save(configPath);
        }

        var job = new JsonObject
        {
            ["name"] = options.Name ?? $"migrate-{config.SourceId}",
            ["runOnce"] = true,
            ["clientToken"] = clientToken,
        };
        if (options.ImageName is not null)
        {
            job["imageName"] = options.ImageName;
        }

        foreach ((string field, JsonNode? value) in options.Fields ?? [])
        {
            job[field] = value?.DeepClone();
        }

        if (options.SystemDiskSize is not null)
        {
            job["systemDiskSize"] = options.SystemDiskSize;
        }

        var disksArray = new JsonArray();
        for (int i = 1; i < config.Disks.Count; i++)
        {
            long size;
            try
            {
                using var reader = Smc.Disks.DiskReader.Open(config.Disks[i]);
                size = reader.Length;
            }
            catch (Smc.Disks.DiskFormatException e)
            {
                throw new AgentException(ExitCodes.DiskError, $"{config.Disks[i]}: {e.Message} ({e.Code})", e);
            }

            disksArray.Add(new JsonObject { ["index"] = i, ["size"] = Math.Max(1, (int)((size + (1L << 30) - 1) >> 30)) });
        }

        // A container capture reads files, not disks: no data disks to size.
        if (disksArray.Count > 0 && options.Fields?["targetType"]?.GetValue<string>() != "ContainerImage")
        {
            job["dataDisks"] = disksArray;
        }

        var parameters = new JsonObject();
        if (options.Threads is not null)
        {
            parameters["threads"] = options.Threads;
        }

        if (options.BandwidthLimitKBps is not null)
        {
            parameters["bandwidthLimitKBps"] = options.BandwidthLimitKBps;
        }

        if (options.CompressLevel is not null)
        {
            parameters["compressLevel"] = options.CompressLevel;
        }

        if (parameters.Count > 0)
        {
            job["replicationParameters"] = parameters;
        }

        using var client = new ControlPlaneClient(config.Server);
        JsonElement created = await ControlPlaneClient.ShortRetry.ExecuteAsync(
            async ct => await client.CreateJobAsync(config.Credential, JsonSerializer.SerializeToElement(job), ct), cancellationToken);
        string jobId = created.GetProperty("jobId").GetString()!;
        RunCommand.Log(log, $"job {jobId} is {created.GetProperty("status").GetString()}");

        JsonElement final = default;
        int exit = await RunCommand.LoopAsync(configPath, log, async (c, cfg, ct) =>
        {
            final = await c.GetJobAsync(cfg.Credential, jobId, ct);
            string status = final.GetProperty("status").GetString()!;
            return status is "Finished" or "InError" or "Stopped";
        }, cancellationToken);
        if (exit != ExitCodes.Ok || final.ValueKind == JsonValueKind.Undefined)
        {
            return exit;
        }

        string finalStatus = final.GetProperty("status").GetString()!;
        if (options.Json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(final, AgentJson.Options));
        }
        else
        {
            string detail = final.TryGetProperty("statusInfo", out JsonElement info) && info.TryGetProperty("errorMessage", out JsonElement m) ? " — " + m.GetString() : "";
            string image = final.TryGetProperty("replicationJobRuns", out JsonElement runs) && runs.GetArrayLength() > 0 && runs[runs.GetArrayLength() - 1].TryGetProperty("imageId", out JsonElement id) ? $", image {id.GetString()}" : "";
            string pushed = final.TryGetProperty("replicationJobRuns", out JsonElement all) && all.GetArrayLength() > 0
                && all[all.GetArrayLength() - 1].TryGetProperty("container", out JsonElement c) && c.ValueKind == JsonValueKind.Object
                ? $", pushed {c.GetProperty("registry").GetString()}/{c.GetProperty("repository").GetString()}:{c.GetProperty("tags")[0].GetString()} ({c.GetProperty("manifestDigest").GetString()})"
                : "";
            // A live source: what the image is (frozen at an instant, or why not) and how long the file systems were frozen.
            string consistent = final.TryGetProperty("replicationJobRuns", out JsonElement last) && last.GetArrayLength() > 0
                && last[last.GetArrayLength() - 1].TryGetProperty("consistency", out JsonElement k) && k.ValueKind == JsonValueKind.Object
                && k.GetProperty("mode").GetString() is { } mode && mode != "offline"
                ? $", {mode}" + (k.TryGetProperty("freezeWindowMs", out JsonElement ms) && ms.ValueKind == JsonValueKind.Number ? $" (frozen {ms.GetInt64()} ms)" : "")
                    + (k.TryGetProperty("reason", out JsonElement why) && why.ValueKind == JsonValueKind.String ? $": {why.GetString()}" : "")
                : "";
            Console.Out.WriteLine($"job {jobId}: {finalStatus}{image}{consistent}{pushed}{detail}");
        }

        if (finalStatus == "Finished")
        {
            config = AgentConfig.LoadRequired(configPath);
            config.MigrateClientToken = null;
            config.Save(configPath);
            return ExitCodes.Ok;
        }

        // A source that can't be read is a disk error whichever side noticed it.
        return final.TryGetProperty("errorCode", out JsonElement errorCode) && errorCode.GetString()?.StartsWith("SourceDisk.", StringComparison.Ordinal) == true
            ? ExitCodes.DiskError
            : ExitCodes.JobFailed;
    }

    /// <summary>
    /// The pre-flight check before anything is sent (not for a container capture: it boots no kernel): printed, and a
    /// <c>fail</c> stops the migration (exit 9) unless <c>--force</c>.
    /// </summary>
    private static Smc.Wire.Boot.PreflightReport? Preflight(IReadOnlyList<string> disks, MigrateOptions options, Spectre.Console.IAnsiConsole console)
    {
        if (options.Root is not null || options.Fields?["targetType"]?.GetValue<string>() == "ContainerImage")
        {
            return null;
        }

        Smc.Wire.Boot.PreflightReport report = CheckCommand.Report(null, disks, console);
        CheckCommand.Print(report, console);
        if (report.Status == Smc.Wire.Boot.BootCheck.Fail && !options.Force)
        {
            throw new AgentException(ExitCodes.CheckFailed, "The pre-flight check failed: this server would not boot on the target as it is. Fix what it found (smc-agent check --fix does the safe fixes) or pass --force to migrate anyway.");
        }

        return report;
    }
}
