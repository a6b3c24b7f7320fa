using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace Smc.Files;

/// <summary>What <c>statx(2)</c> says about a path (not following a final symlink).</summary>
public readonly record struct UnixStat(
    uint Mode, uint Uid, uint Gid, uint Links, ulong Inode, long Size, long MtimeSeconds, uint MtimeNanoseconds,
    uint DeviceMajor, uint DeviceMinor, uint RdevMajor, uint RdevMinor)
{
    public const uint TypeMask = 0xF000, Directory = 0x4000, Regular = 0x8000, Symlink = 0xA000, CharDevice = 0x2000, BlockDevice = 0x6000, Fifo = 0x1000, Socket = 0xC000;

    public uint Type => Mode & TypeMask;

    /// <summary>Permission bits with setuid, setgid and sticky (the low 12 bits).</summary>
    public UnixFileMode Permissions => (UnixFileMode)(Mode & 0xFFF);

    public DateTimeOffset ModificationTime => DateTimeOffset.FromUnixTimeSeconds(MtimeSeconds).AddTicks(MtimeNanoseconds / 100);
}

/// <summary>
/// The few Linux calls .NET doesn't expose: <c>statx</c> (owner, inode, link count, device — the same struct layout on
/// every architecture, unlike <c>stat</c>) and the extended-attribute calls, all on the link itself (<c>l*</c>).
/// Hand-written: the BCL has no inode, owner or xattr API.
/// </summary>
public static partial class UnixFile
{
    private const int AtFdcwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxBasicStats = 0x7FF;
    private const int StatxSize = 256;

    public static UnixStat Stat(string path)
    {
        Span<byte> buffer = stackalloc byte[StatxSize];
        if (statx(AtFdcwd, path, AtSymlinkNoFollow, StatxBasicStats, ref MemoryMarshal.GetReference(buffer)) != 0)
        {
            throw new IOException($"statx {path}: {Marshal.GetLastPInvokeErrorMessage()}", Marshal.GetLastPInvokeError());
        }

        // struct statx (include/uapi/linux/stat.h): fixed offsets on every architecture.
        return new UnixStat(
            Mode: BitConverter.ToUInt16(buffer[28..]),
            Uid: BitConverter.ToUInt32(buffer[20..]),
            Gid: BitConverter.ToUInt32(buffer[24..]),
            Links: BitConverter.ToUInt32(buffer[16..]),
            Inode: BitConverter.ToUInt64(buffer[32..]),
            Size: BitConverter.ToInt64(buffer[40..]),
            MtimeSeconds: BitConverter.ToInt64(buffer[112..]),
            MtimeNanoseconds: BitConverter.ToUInt32(buffer[120..]),
            RdevMajor: BitConverter.ToUInt32(buffer[128..]),
            RdevMinor: BitConverter.ToUInt32(buffer[132..]),
            DeviceMajor: BitConverter.ToUInt32(buffer[136..]),
            DeviceMinor: BitConverter.ToUInt32(buffer[140..]));
    }

    /// <summary>The path's extended attributes (name → raw value); empty where the file system has none or doesn't support them.</summary>
    public static Dictionary<string, byte[]> ExtendedAttributes(string path)
    {
        var result = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        nint size = llistxattr(path, ref Unsafe.NullRef<byte>(), 0);
        if (size <= 0)
        {
            return result;
        }

        byte[] names = new byte[size];
        size = llistxattr(path, ref names[0], (nuint)names.Length);
        if (size <= 0)
        {
            return result;
        }

        foreach (string name in Encoding.UTF8.GetString(names, 0, (int)size).Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            nint length = lgetxattr(path, name, ref Unsafe.NullRef<byte>(), 0);
            if (length < 0)
            {
                continue;
            }

            byte[] value = new byte[length];
            if (length > 0 && lgetxattr(path, name, ref value[0], (nuint)value.Length) != length)
            {
                continue;
            }

            result[name] = value;
        }

        return result;
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int statx(int dirfd, string path, int flags, uint mask, ref byte buffer);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial nint llistxattr(string path, ref byte list, nuint size);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial nint lgetxattr(string path, string name, ref byte value, nuint size);
}
