using System.Formats.Tar;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Smc.Files;

/// <summary>One path of a captured tree as the capture saw it (what the next round compares with).</summary>
public sealed record TreeItem(
    [property: JsonPropertyName("t")] char Type,
    [property: JsonPropertyName("m")] uint Mode,
    [property: JsonPropertyName("u")] uint Uid,
    [property: JsonPropertyName("g")] uint Gid,
    [property: JsonPropertyName("s")] long Size,
    [property: JsonPropertyName("ms")] long MtimeSeconds,
    [property: JsonPropertyName("mn")] uint MtimeNanoseconds,
    [property: JsonPropertyName("l")] string? LinkTarget,
    [property: JsonPropertyName("x")] string? Xattrs);

/// <summary>
/// Every path a capture wrote (<c>/etc/hostname</c> → its metadata): a round's layer holds what differs from the
/// previous round's listing (new or changed paths, whiteouts for removed ones). Kept by the agent beside its checkpoint.
/// </summary>
public sealed class TreeListing
{
    [JsonPropertyName("formatVersion")]
    public int FormatVersion { get; init; } = 1;

    [JsonPropertyName("items")]
    public SortedDictionary<string, TreeItem> Items { get; init; } = new(StringComparer.Ordinal);

    public byte[] Serialize() => JsonSerializer.SerializeToUtf8Bytes(this);

    public static TreeListing Deserialize(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize<TreeListing>(json) is { FormatVersion: 1 } listing ? listing : throw new InvalidDataException("Not a tree listing of format 1.");

    /// <summary>
    /// The listing of a tree made of <paramref name="below"/> (the listing of the layers under it, or null) with one more
    /// layer applied: its whiteouts remove paths (and everything under a removed directory), its entries add or replace
    /// them. For a layer <see cref="TreeTar"/> wrote, this equals the listing its capture made, so whoever keeps the
    /// layers (the control plane) can give an agent that lost its listing the same base the agent had.
    /// </summary>
    public static async Task<TreeListing> ApplyLayerAsync(TreeListing? below, Stream layer, CancellationToken cancellationToken = default)
    {
        var result = new TreeListing();
        foreach ((string path, TreeItem item) in below?.Items ?? [])
        {
            result.Items[path] = item;
        }

        await using var reader = new TarReader(layer, leaveOpen: true);
        while (await reader.GetNextEntryAsync(copyData: false, cancellationToken) is { } entry)
        {
            string path = "/" + entry.Name.TrimEnd('/');
            string name = path[(path.LastIndexOf('/') + 1)..];
            if (name.StartsWith(TreeTar.WhiteoutPrefix, StringComparison.Ordinal))
            {
                string victim = path[..(path.LastIndexOf('/') + 1)] + name[TreeTar.WhiteoutPrefix.Length..];
                result.Items.Remove(victim);
                foreach (string under in result.Items.Keys.Where(k => k.StartsWith(victim + "/", StringComparison.Ordinal)).ToList())
                {
                    result.Items.Remove(under);
                }

                continue;
            }

            if (entry.EntryType == TarEntryType.HardLink)
            {
                // A second name of an inode: the same metadata as the first (which the capture always writes before it).
                if (result.Items.TryGetValue("/" + entry.LinkName.TrimEnd('/'), out TreeItem? first))
                {
                    result.Items[path] = first;
                }

                continue;
            }

            (char type, uint typeBits) = entry.EntryType switch
            {
                TarEntryType.Directory => ('d', UnixStat.Directory),
                TarEntryType.SymbolicLink => ('l', UnixStat.Symlink),
                TarEntryType.CharacterDevice => ('c', UnixStat.CharDevice),
                TarEntryType.BlockDevice => ('b', UnixStat.BlockDevice),
                TarEntryType.Fifo => ('p', UnixStat.Fifo),
                _ => ('f', UnixStat.Regular),
            };
            long ticks = entry.ModificationTime.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
            long seconds = (long)Math.Floor(ticks / (double)TimeSpan.TicksPerSecond);
            string? xattrs = entry is PaxTarEntry pax ? Xattrs(pax.ExtendedAttributes) : null;
            result.Items[path] = new TreeItem(type, typeBits | (uint)entry.Mode, (uint)entry.Uid, (uint)entry.Gid, type == 'f' ? entry.Length : 0,
                seconds, (uint)((ticks - (seconds * TimeSpan.TicksPerSecond)) * 100),
                type == 'l' ? entry.LinkName : null, xattrs);
        }

        return result;

        static string? Xattrs(IReadOnlyDictionary<string, string> attributes)
        {
            string[] records = [.. attributes.Where(a => a.Key.StartsWith(TreeTar.XattrPrefix, StringComparison.Ordinal))
                .OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => string.Create(CultureInfo.InvariantCulture, $"{a.Key}={a.Value}"))];
            return records.Length == 0 ? null : string.Join('\n', records);
        }
    }
}
