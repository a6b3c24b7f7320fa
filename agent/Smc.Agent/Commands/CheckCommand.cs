using System.Text.Json;
using Smc.Agent.Check;
using Smc.Agent.Control;
using Smc.Agent.Platform;
using Smc.Disks;
using Smc.Wire.Boot;
using Smc.Wire.Inventory;
using Spectre.Console;

namespace Smc.Agent.Commands;

/// <summary>
/// <c>smc-agent check</c>: will this source boot on the target? pass/warn/fail with the fix for each finding, as a
/// table or <c>--json</c> (<c>{"checks":[{"id","status","message","fix"}],"estimate":{…}}</c>); <c>--fix</c> applies
/// the safe fixes (each changed file backed up) and checks again. Exit 0, or 9 when a <c>fail</c> is left.
/// </summary>
internal static class CheckCommand
{
    /// <summary>The report's documented shape: every field present, a pass's <c>fix</c> as null.</summary>
    private static readonly JsonSerializerOptions ReportJson = new(AgentJson.Options) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.Never };

    public static int Run(string? root, IReadOnlyList<string> disks, bool json, bool fix, IAnsiConsole console, IAnsiConsole errors)
    {
        if (root is not null && !Directory.Exists(root))
        {
            throw new AgentException(ExitCodes.Usage, $"--root {root}: no such directory.");
        }

        if (fix && root is null && OnImages(disks))
        {
            throw new AgentException(ExitCodes.Usage, "--fix changes files: mount the image's root file system and pass it with --root.");
        }

        PreflightReport report = Report(root, disks, errors);
        List<FixResult> fixes = [];
        if (fix && report.Status == BootCheck.Fail)
        {
            fixes = SourceFixer.Fix(root ?? "/", report, TimeProvider.System, errors.Profile.Out.Writer);
            report = Report(root, disks, errors);
        }

        if (json)
        {
            var document = new { checks = report.Checks, estimate = report.Estimate, status = report.Status, checkedAt = report.CheckedAt, fixes = fix ? fixes : null };
            console.Profile.Out.Writer.WriteLine(JsonSerializer.Serialize(document, ReportJson));
        }
        else
        {
            foreach (FixResult f in fixes)
            {
                console.MarkupLineInterpolated($"[{(f.Applied ? "green" : "yellow")}]fix {f.Id}:[/] {f.Message}");
                foreach (string backup in f.Backups)
                {
                    console.MarkupLineInterpolated($"  backup: {backup}");
                }
            }

            Print(report, console);
        }

        return report.Status == BootCheck.Fail ? ExitCodes.CheckFailed : ExitCodes.Ok;
    }

    /// <summary>
    /// The report: on <paramref name="root"/> when given (a mounted tree); else, when disks are named that don't hold
    /// this machine's <c>/</c> (image files, another machine's disks), on the root file system inside them, read from
    /// their bytes; else on this machine (<c>/</c>, with its disks or those named). Disks that can't be read for the
    /// check make a warning, not a failure of the command: the report is advice.
    /// </summary>
    public static PreflightReport Report(string? root, IReadOnlyList<string> disks, IAnsiConsole errors)
    {
        List<DiskInfo> found = [];
        if (disks.Count > 0 || root is null)
        {
            (found, List<SkippedDisk> skipped) = DiskDiscovery.InspectDiscovered(disks);
            foreach (SkippedDisk s in skipped)
            {
                errors.MarkupLineInterpolated($"[yellow]skipped:[/] {s.Reason}");
            }
        }

        List<string> paths = [.. found.Select(d => d.Device)];
        try
        {
            return root is null && OnImages(disks) && found.Count > 0
                ? SourceCheck.RunOnImages(found, paths, TimeProvider.System)
                : SourceCheck.Run(root ?? "/", found, paths, TimeProvider.System);
        }
        catch (Exception e) when (e is IOException or DiskFormatException or InvalidDataException or UnauthorizedAccessException)
        {
            return new PreflightReport
            {
                Checks = [new BootCheck("check.read", BootCheck.Warn, $"The source could not be read for the boot checks: {e.Message}", "Run smc-agent check as root on the source.")],
                CheckedAt = TimeProvider.System.GetUtcNow(),
            };
        }
    }

    /// <summary>Disks are named and none holds this machine's root file system: they are checked from their own bytes.</summary>
    public static bool OnImages(IReadOnlyList<string> disks) => disks.Count > 0 && !SourceVolumes.HoldRoot(disks);

    /// <summary>
    /// Sends the report to the control plane, where the source shows it. A refusal or an unreachable control plane is
    /// a warning: the report is advice, the migration does not depend on it.
    /// </summary>
    public static async Task PostAsync(ControlPlaneClient client, string credential, PreflightReport report, IAnsiConsole console, CancellationToken cancellationToken)
    {
        try
        {
            await ControlPlaneClient.ShortRetry.ExecuteAsync(async ct => await client.PreflightAsync(credential, report, ct), cancellationToken);
        }
        catch (ControlPlaneException e)
        {
            console.MarkupLineInterpolated($"[yellow]The pre-flight report was not sent:[/] {e.Message}");
        }
    }

    /// <summary>One line: the result and the checks that did not pass.</summary>
    public static string Summary(PreflightReport report)
    {
        string[] notPassed = [.. report.Checks.Where(c => c.Status != BootCheck.Pass).Select(c => $"{c.Id} {c.Status}")];
        return $"Pre-flight check: {report.Status}{(notPassed.Length == 0 ? "" : $" ({string.Join(", ", notPassed)})")}; details: smc-agent check.";
    }

    public static void Print(PreflightReport report, IAnsiConsole console)
    {
        var table = new Table().AddColumns("check", "status", "finding", "fix");
        foreach (BootCheck c in report.Checks)
        {
            string color = c.Status switch { BootCheck.Pass => "green", BootCheck.Warn => "yellow", _ => "red" };
            table.AddRow(Markup.Escape(c.Id), $"[{color}]{c.Status}[/]", Markup.Escape(c.Message), Markup.Escape(c.Fix ?? ""));
        }

        console.Write(table);
        if (report.Estimate is { } e)
        {
            string duration = e.FullCopySeconds is { } s ? $", about {TimeSpan.FromSeconds(s):g} at the measured {InspectCommand.Bytes((long)(e.UploadBytesPerSecond ?? 0))}/s" : "";
            console.MarkupLineInterpolated($"Full copy: {InspectCommand.Bytes(e.InUseBytes)} in use{duration}.");
        }

        console.MarkupLineInterpolated($"Result: [bold]{report.Status}[/]");
    }
}
