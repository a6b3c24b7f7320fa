using System.Text;

namespace Smc.Disks;

/// <summary>Formatting of file system ids and labels the way <c>blkid</c> prints them.</summary>
internal static class IdFormat
{
    /// <summary>16 bytes in on-disk (big-endian, RFC 4122 byte) order as <c>xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx</c>; null when all zero.</summary>
    public static string? Uuid(ReadOnlySpan<byte> bytes)
    {
        bytes = bytes[..16];
        if (!bytes.ContainsAnyExcept((byte)0))
        {
            return null;
        }

        string hex = Convert.ToHexStringLower(bytes);
        return $"{hex[..8]}-{hex[8..12]}-{hex[12..16]}-{hex[16..20]}-{hex[20..]}";
    }

    /// <summary>A NUL-terminated (or full-length) UTF-8 string; null when empty.</summary>
    public static string? CString(ReadOnlySpan<byte> bytes)
    {
        int nul = bytes.IndexOf((byte)0);
        if (nul >= 0)
        {
            bytes = bytes[..nul];
        }

        return bytes.IsEmpty ? null : Encoding.UTF8.GetString(bytes);
    }
}
