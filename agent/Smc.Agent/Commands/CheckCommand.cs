using System.Text.Json;
using Smc.Agent.Check;
using Smc.Agent.Platform;
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

    public static int Run(string root, IReadOnlyList<string> disks, bool json, bool fix, IAnsiConsole console, IAnsiConsole errors)
    {
        if (!Directory.Exists(root))
        {
            throw new AgentException(ExitCodes.Usage, $"--root {root}: no such directory.");
        }

        PreflightReport report = Report(root, disks, errors);
        List<FixResult> fixes = [];
        if (fix && report.Status == BootCheck.Fail)
        {
            fixes = SourceFixer.Fix(root, report, TimeProvider.System, errors.Profile.Out.Writer);
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

    /// <summary>The report on <paramref name="root"/> with the given disks (none given: this machine's, when it is the root).</summary>
    public static PreflightReport Report(string root, IReadOnlyList<string> disks, IAnsiConsole errors)
    {
        List<DiskInfo> found = [];
        List<string> paths = [];
        if (disks.Count > 0 || Path.GetFullPath(root) == "/")
        {
            (found, List<SkippedDisk> skipped) = DiskDiscovery.InspectDiscovered(disks);
            foreach (SkippedDisk s in skipped)
            {
                errors.MarkupLineInterpolated($"[yellow]skipped:[/] {s.Reason}");
            }

            paths = [.. found.Select(d => d.Device)];
        }

        return SourceCheck.Run(root, found, paths, TimeProvider.System);
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
