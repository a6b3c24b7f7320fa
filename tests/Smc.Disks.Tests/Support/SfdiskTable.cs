using System.Globalization;
using System.Text.Json;

namespace Smc.Disks.Tests.Support;

/// <summary>One partition as <c>sfdisk --json</c> reports it.</summary>
public sealed record SfdiskPartition(int Number, long Start, long Size, string Type, string? Uuid, string? Name, bool Bootable, string? Attrs);

/// <summary>The partition table as <c>sfdisk --json</c> reports it.</summary>
public sealed record SfdiskTable(string Label, string Id, IReadOnlyList<SfdiskPartition> Partitions)
{
    public static SfdiskTable Read(string image)
    {
        using JsonDocument json = JsonDocument.Parse(Tool.Run("sfdisk", "--json", image));
        JsonElement table = json.RootElement.GetProperty("partitiontable");
        var parts = new List<SfdiskPartition>();
        if (table.TryGetProperty("partitions", out JsonElement array))
        {
            foreach (JsonElement p in array.EnumerateArray())
            {
                string node = p.GetProperty("node").GetString()!;
                int number = int.Parse(node[image.Length..], CultureInfo.InvariantCulture);
                parts.Add(new SfdiskPartition(
                    number,
                    p.GetProperty("start").GetInt64(),
                    p.GetProperty("size").GetInt64(),
                    p.GetProperty("type").GetString()!,
                    Optional(p, "uuid"),
                    Optional(p, "name"),
                    p.TryGetProperty("bootable", out JsonElement boot) && boot.GetBoolean(),
                    Optional(p, "attrs")));
            }
        }

        return new SfdiskTable(table.GetProperty("label").GetString()!, table.GetProperty("id").GetString()!, parts);
    }

    private static string? Optional(JsonElement element, string name) =>
        element.TryGetProperty(name, out JsonElement value) ? value.GetString() : null;
}
