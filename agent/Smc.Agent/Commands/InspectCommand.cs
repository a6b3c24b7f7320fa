using System.Text.Json;
using Smc.Agent.Platform;
using Smc.Wire.Inventory;
using Spectre.Console;

namespace Smc.Agent.Commands;

/// <summary><c>smc-agent inspect</c>: disks, partition tables, partitions, file systems and used bytes.</summary>
internal static class InspectCommand
{
    /// <summary>Shows the disks; a found disk that can't be read is reported on <paramref name="errors"/> and the others are still shown (exit 0 when any disk was shown, else the first one's code).</summary>
    public static int Run(IReadOnlyList<string> disks, bool json, IAnsiConsole console, IAnsiConsole errors)
    {
        (List<DiskInfo> found, List<SkippedDisk> skipped) = DiskDiscovery.InspectDiscovered(disks);
        foreach (SkippedDisk s in skipped)
        {
            errors.MarkupLineInterpolated($"[yellow]skipped:[/] {s.Reason}");
        }

        int exit = found.Count == 0 && skipped.Count > 0 ? skipped[0].ExitCode : ExitCodes.Ok;
        if (json)
        {
            console.Profile.Out.Writer.WriteLine(JsonSerializer.Serialize(found, AgentJson.Options));
            return exit;
        }

        if (found.Count == 0)
        {
            console.MarkupLine("[yellow]No disks found.[/] Pass --disk PATH (a block device or a disk image file).");
            return exit;
        }

        foreach (DiskInfo disk in found)
        {
            console.MarkupLineInterpolated($"[bold]{disk.Device}[/]  {Bytes(disk.SizeBytes)}  table: {disk.PartitionTable}{(disk.DiskId is null ? "" : "  id: " + disk.DiskId)}");
            var table = new Table().AddColumns("#", "device", "start", "size", "fs", "used", "mount", "label");
            foreach (PartitionInfo p in disk.Parts)
            {
                table.AddRow(
                    p.Number.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    Markup.Escape(p.Device),
                    Bytes(p.StartBytes),
                    Bytes(p.SizeBytes),
                    Markup.Escape(p.FileSystem ?? "?"),
                    p.UsedBytes is { } used ? Bytes(used) : "-",
                    Markup.Escape(p.Path ?? ""),
                    Markup.Escape(p.Label ?? ""));
            }

            console.Write(table);
        }

        return ExitCodes.Ok;
    }

    internal static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.##} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.##} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:0.##} KiB",
        _ => $"{bytes} B",
    };
}
