using System.Formats.Tar;
using System.Text;

namespace Smc.Files;

/// <summary>What to leave out of a capture, and which mounts to take in anyway.</summary>
public sealed record TreeCaptureOptions
{
    /// <summary>Kept as empty directories (a container expects them), their content never read: pseudo and volatile file systems.</summary>
    public static readonly IReadOnlyList<string> Volatile = ["/proc", "/sys", "/dev", "/run", "/tmp"];

    /// <summary>Paths (as seen from the root, e.g. <c>/var/cache</c>) left out with everything under them.</summary>
    public IReadOnlyList<string> Exclude { get; init; } = [];

    /// <summary>Paths whose content is captured even where another file system is mounted (or a volatile path).</summary>
    public IReadOnlyList<string> Include { get; init; } = [];

    /// <summary>Files never captured (the agent itself, swap files), by absolute path on this machine.</summary>
    public IReadOnlyList<string> SkipFiles { get; init; } = [];
}

/// <summary>What a capture wrote and what it left out (and why).</summary>
public sealed class TreeCaptureStats
{
    public int Files { get; internal set; }

    public int Directories { get; internal set; }

    public int Symlinks { get; internal set; }

    public int HardLinks { get; internal set; }

    public int Special { get; internal set; }

    public long Bytes { get; internal set; }

    /// <summary>Whiteouts written for paths the previous round had and this one doesn't (incremental layers).</summary>
    public int Whiteouts { get; internal set; }

    /// <summary>Paths the previous round had unchanged, so not in this layer.</summary>
    public int Unchanged { get; internal set; }

    /// <summary>Every path of the tree as captured now: the next round's base.</summary>
    public TreeListing Listing { get; } = new();

    /// <summary>Paths not captured, with the reason (excluded, another mount, a socket, an xattr tar can't carry…).</summary>
    public List<(string Path, string Reason)> Skipped { get; } = [];
}

/// <summary>
/// A file-level capture of a root file system as one PAX tar stream: directories, regular files, symlinks, hard links
/// (the second name of an inode is a link entry), devices and FIFOs, with mode (setuid/setgid/sticky included), numeric
/// owner, nanosecond mtime, and extended attributes as <c>SCHILY.xattr.*</c> records where their value is text.
/// Deterministic order (ordinal names), the file system's own size for each file (a file that changes while read keeps
/// the size it had: the tar stays well-formed). Volatile file systems and other mounts are kept as empty directories.
/// With the previous round's <see cref="TreeListing"/>, the stream is an OCI incremental layer: only new and changed paths
/// (type, mode, owner, size, mtime, link target or xattrs differ), and a whiteout (<c>.wh.{name}</c>) for each path
/// removed since (one for a removed directory, not one per file in it); a path whose type changed gets a whiteout and
/// its new entry, as the image spec allows within one layer. A new name of a hard-linked inode whose other names are
/// unchanged is a link entry to a name in the layers below (as GNU tar and container runtimes apply it).
/// </summary>
public static class TreeTar
{
    public const string WhiteoutPrefix = ".wh.";

    /// <summary>The PAX record prefix of an extended attribute (GNU tar's and libarchive's).</summary>
    public const string XattrPrefix = "SCHILY.xattr.";

    public static async Task<TreeCaptureStats> WriteAsync(string root, Stream output, TreeCaptureOptions options, TreeListing? previous = null, CancellationToken cancellationToken = default)
    {
        root = Path.GetFullPath(root);
        var stats = new TreeCaptureStats();
        UnixStat top = UnixFile.Stat(root);
        var links = new Dictionary<(uint, uint, ulong), string>();
        var skipFiles = options.SkipFiles.Select(Path.GetFullPath).ToHashSet(StringComparer.Ordinal);
        await using var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
        await WalkAsync(root, "/");
        if (previous is not null)
        {
            // Removed since the previous round: one whiteout for the topmost removed path of each removed subtree.
            foreach (string gone in previous.Items.Keys.Where(p => !stats.Listing.Items.ContainsKey(p)))
            {
                string parent = gone[..gone.LastIndexOf('/')];
                if (parent.Length == 0 || stats.Listing.Items.ContainsKey(parent))
                {
                    await WhiteoutAsync(gone);
                }
            }
        }

        return stats;

        bool SkipContent(string inView, UnixStat s)
        {
            bool otherMount = s.DeviceMajor != top.DeviceMajor || s.DeviceMinor != top.DeviceMinor;
            bool included = Under(inView, options.Include) || options.Include.Any(i => Under(i, [inView]));
            return (Under(inView, TreeCaptureOptions.Volatile) || otherMount) && !included;
        }

        async Task WhiteoutAsync(string inView)
        {
            int slash = inView.LastIndexOf('/');
            string name = inView[1..(slash + 1)] + WhiteoutPrefix + inView[(slash + 1)..];
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, name) { Mode = UnixFileMode.None, ModificationTime = DateTimeOffset.UnixEpoch }, cancellationToken);
            stats.Whiteouts++;
        }

        async Task WalkAsync(string directory, string view)
        {
            IEnumerable<string> names = Directory.EnumerateFileSystemEntries(directory).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal);
            foreach (string name in names)
            {
                cancellationToken.ThrowIfCancellationRequested();
                string path = Path.Combine(directory, name);
                string inView = view == "/" ? "/" + name : view + "/" + name;
                string entryName = inView[1..];
                if (Under(inView, options.Exclude) && !Under(inView, options.Include))
                {
                    stats.Skipped.Add((inView, "excluded"));
                    continue;
                }

                if (skipFiles.Contains(path))
                {
                    stats.Skipped.Add((inView, "the agent or a swap file"));
                    continue;
                }

                UnixStat s;
                try
                {
                    s = UnixFile.Stat(path);
                }
                catch (IOException e)
                {
                    stats.Skipped.Add((inView, $"vanished or unreadable ({e.Message})"));
                    continue;
                }

                Dictionary<string, string> attributes = Attributes(path, inView, stats);
                string? target = s.Type == UnixStat.Symlink ? new FileInfo(path).LinkTarget ?? "" : null;
                // The mtime as the tar carries it (100 ns steps), so a listing rebuilt from the layers equals this one.
                var item = new TreeItem(TypeChar(s.Type), s.Mode, s.Uid, s.Gid, s.Type == UnixStat.Regular ? s.Size : 0, s.MtimeSeconds, s.MtimeNanoseconds / 100 * 100, target,
                    attributes.Count == 0 ? null : string.Join('\n', attributes.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key}={a.Value}")));
                stats.Listing.Items[inView] = item;
                TreeItem? before = previous?.Items.GetValueOrDefault(inView);
                if (before == item)
                {
                    // Unchanged since the previous round: not in this layer (a directory is still walked for what changed inside).
                    // An unchanged name of a hard-linked inode still counts as its first: a new name of it links to this one below.
                    if (s.Type == UnixStat.Regular && s.Links > 1)
                    {
                        links.TryAdd((s.DeviceMajor, s.DeviceMinor, s.Inode), entryName);
                    }

                    stats.Unchanged++;
                    if (s.Type == UnixStat.Directory && !SkipContent(inView, s))
                    {
                        await WalkAsync(path, inView);
                    }

                    continue;
                }

                if (before is not null && before.Type != item.Type)
                {
                    await WhiteoutAsync(inView);
                }

                switch (s.Type)
                {
                    case UnixStat.Directory:
                        await writer.WriteEntryAsync(Entry(TarEntryType.Directory, entryName + "/", s, attributes), cancellationToken);
                        stats.Directories++;
                        if (SkipContent(inView, s))
                        {
                            stats.Skipped.Add((inView + "/*", s.DeviceMajor != top.DeviceMajor || s.DeviceMinor != top.DeviceMinor ? "another file system is mounted here" : "volatile file system"));
                            break;
                        }

                        await WalkAsync(path, inView);
                        break;
                    case UnixStat.Regular when s.Links > 1 && links.TryGetValue((s.DeviceMajor, s.DeviceMinor, s.Inode), out string? first):
                        {
                            PaxTarEntry link = Entry(TarEntryType.HardLink, entryName, s, attributes);
                            link.LinkName = first;
                            await writer.WriteEntryAsync(link, cancellationToken);
                            stats.HardLinks++;
                            break;
                        }

                    case UnixStat.Regular:
                        {
                            if (s.Links > 1)
                            {
                                links[(s.DeviceMajor, s.DeviceMinor, s.Inode)] = entryName;
                            }

                            PaxTarEntry file = Entry(TarEntryType.RegularFile, entryName, s, attributes);
                            await using var content = new FixedLengthStream(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16, useAsync: true), s.Size);
                            file.DataStream = content;
                            await writer.WriteEntryAsync(file, cancellationToken);
                            stats.Files++;
                            stats.Bytes += s.Size;
                            break;
                        }

                    case UnixStat.Symlink:
                        {
                            PaxTarEntry link = Entry(TarEntryType.SymbolicLink, entryName, s, attributes);
                            link.LinkName = target!;
                            await writer.WriteEntryAsync(link, cancellationToken);
                            stats.Symlinks++;
                            break;
                        }

                    case UnixStat.CharDevice or UnixStat.BlockDevice:
                        {
                            PaxTarEntry device = Entry(s.Type == UnixStat.CharDevice ? TarEntryType.CharacterDevice : TarEntryType.BlockDevice, entryName, s, attributes);
                            device.DeviceMajor = (int)s.RdevMajor;
                            device.DeviceMinor = (int)s.RdevMinor;
                            await writer.WriteEntryAsync(device, cancellationToken);
                            stats.Special++;
                            break;
                        }

                    case UnixStat.Fifo:
                        await writer.WriteEntryAsync(Entry(TarEntryType.Fifo, entryName, s, attributes), cancellationToken);
                        stats.Special++;
                        break;
                    default:
                        stats.Skipped.Add((inView, "a socket (tar can't carry it)"));
                        break;
                }
            }
        }
    }

    private static char TypeChar(uint type) => type switch
    {
        UnixStat.Directory => 'd',
        UnixStat.Regular => 'f',
        UnixStat.Symlink => 'l',
        UnixStat.CharDevice => 'c',
        UnixStat.BlockDevice => 'b',
        UnixStat.Fifo => 'p',
        _ => 's',
    };

    /// <summary>Whether <paramref name="path"/> is one of <paramref name="prefixes"/> or under one.</summary>
    internal static bool Under(string path, IEnumerable<string> prefixes) =>
        prefixes.Any(p => path == p.TrimEnd('/') || path.StartsWith(p.TrimEnd('/') + "/", StringComparison.Ordinal));

    private static PaxTarEntry Entry(TarEntryType type, string name, UnixStat s, Dictionary<string, string> attributes) =>
        new(type, name, attributes)
        {
            Mode = s.Permissions,
            Uid = (int)s.Uid,
            Gid = (int)s.Gid,
            ModificationTime = s.ModificationTime,
        };

    /// <summary>Extended attributes as PAX <c>SCHILY.xattr.{name}</c> records; values that aren't UTF-8 text can't be carried (noted).</summary>
    private static Dictionary<string, string> Attributes(string path, string inView, TreeCaptureStats stats)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var strict = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        foreach ((string name, byte[] value) in UnixFile.ExtendedAttributes(path))
        {
            try
            {
                string text = strict.GetString(value);
                if (text.Contains('\0', StringComparison.Ordinal))
                {
                    throw new DecoderFallbackException();
                }

                result[XattrPrefix + name] = text;
            }
            catch (DecoderFallbackException)
            {
                stats.Skipped.Add((inView, $"xattr {name}: binary value"));
            }
        }

        return result;
    }

    /// <summary>Exactly <c>length</c> bytes of a file: cut when it grew, zero-filled when it shrank since it was measured.</summary>
    private sealed class FixedLengthStream(Stream inner, long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position
        {
            get => _position;
            set => _position = inner.Position = value;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int want = (int)Math.Min(buffer.Length, length - _position);
            if (want <= 0)
            {
                return 0;
            }

            int n = inner.Read(buffer[..want]);
            if (n == 0)
            {
                buffer[..want].Clear();
                n = want;
            }

            _position += n;
            return n;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int want = (int)Math.Min(buffer.Length, length - _position);
            if (want <= 0)
            {
                return 0;
            }

            int n = await inner.ReadAsync(buffer[..want], cancellationToken);
            if (n == 0)
            {
                buffer.Span[..want].Clear();
                n = want;
            }

            _position += n;
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => length + offset,
        };

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync();
            await base.DisposeAsync();
        }
    }
}
