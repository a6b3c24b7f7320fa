using System.Text.Json;
using Smc.Agent.Platform;
using Smc.Wire.Inventory;
using Spectre.Console;

namespace Smc.Agent.Commands;

/// <summary><c>smc-agent inspect</c>: disks, partition tables, partitions, file systems and used bytes.</summary>
internal static class InspectCommand
{
    public static int Run(IReadOnlyList<string> disks, bool json, IAnsiConsole console)
    {
        List<DiskInfo> found = DiskDiscovery.Inspect(disks);
        if (json)
        {
            console.Profile.Out.Writer.WriteLine(JsonSerializer.Serialize(found, AgentJson.Options));
            return ExitCodes.Ok;
        }

        if (found.Count == 0)
        {
            console.MarkupLine("[yellow]No disks found.[/] Pass --disk PATH (a block device or a disk image file).");
            return ExitCodes.Ok;
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
