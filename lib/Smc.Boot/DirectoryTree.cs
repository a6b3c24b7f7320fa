namespace Smc.Boot;

/// <summary>
/// A directory on this machine taken as a file system's root: the source's <c>/</c>, or a tree mounted elsewhere
/// (<c>smc-agent check --root DIR</c>). Paths resolve inside it — an absolute symbolic link target (Debian's
/// <c>/lib → usr/lib</c>, <c>/vmlinuz → boot/vmlinuz-…</c>) from this root, <c>..</c> never above it — so a tree
/// mounted at <c>/mnt/x</c> reads as the machine it came from would.
/// </summary>
public sealed class DirectoryTree : IFileTree
{
    private const int MaxLinks = 40;

    public DirectoryTree(string root)
    {
        Root = Path.GetFullPath(root);
    }

    public string Root { get; }

    public bool IsFile(string path) => Resolve(path) is { } p && File.Exists(p);

    public bool IsDirectory(string path) => Resolve(path) is { } p && Directory.Exists(p);

    public byte[] ReadFile(string path, long maxBytes)
    {
        string host = Resolve(path) is { } p && File.Exists(p) ? p : throw new InvalidDataException($"{path} is not a file.");
        try
        {
            using var stream = new FileStream(host, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            if (stream.Length > maxBytes)
            {
                throw new InvalidDataException($"{path} is {stream.Length} bytes, over the {maxBytes} read here.");
            }

            var bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
            return bytes;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    public IReadOnlyList<string> List(string directory)
    {
        if (Resolve(directory) is not { } p || !Directory.Exists(p))
        {
            return [];
        }

        try
        {
            return [.. Directory.EnumerateFileSystemEntries(p).Select(Path.GetFileName).OfType<string>()];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>This machine's path for <paramref name="path"/> in the tree, every link followed; null when a component is missing or links loop.</summary>
    public string? Resolve(string path)
    {
        var parts = new Stack<string>(path.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse());
        var current = new List<string>();
        int links = 0;
        while (parts.Count > 0)
        {
            string part = parts.Pop();
            if (part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                if (current.Count > 0)
                {
                    current.RemoveAt(current.Count - 1);
                }

                continue;
            }

            string host = HostPath(current, part);
            FileSystemInfo info = new FileInfo(host);
            if (!info.Exists && !Directory.Exists(host))
            {
                return null;
            }

            if (info.LinkTarget is not { } target)
            {
                current.Add(part);
                continue;
            }

            if (++links > MaxLinks)
            {
                return null;
            }

            // The link's target replaces it: from the root when absolute, else from the link's directory.
            if (target.StartsWith('/'))
            {
                current.Clear();
            }

            foreach (string t in target.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse())
            {
                parts.Push(t);
            }
        }

        return current.Count == 0 ? Root : HostPath(current.Take(current.Count - 1).ToList(), current[^1]);
    }

    private string HostPath(List<string> directory, string name) => Path.Combine([Root, .. directory, name]);
}
