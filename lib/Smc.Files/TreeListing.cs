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
}
