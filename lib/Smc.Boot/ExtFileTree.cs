using Smc.Disks;

namespace Smc.Boot;

/// <summary>An ext2/3/4 file system inside an image, read from its bytes (<see cref="ExtFileSystem"/>).</summary>
public sealed class ExtFileTree(ExtFileSystem fs) : IFileTree
{
    public ExtFileSystem FileSystem { get; } = fs;

    public bool IsFile(string path) => Lookup(path) is { IsRegular: true };

    public bool IsDirectory(string path) => Lookup(path) is { IsDirectory: true };

    public byte[] ReadFile(string path, long maxBytes)
    {
        ExtInode inode = Lookup(path) is { IsRegular: true } i ? i : throw new InvalidDataException($"{path} is not a file.");
        try
        {
            return FileSystem.ReadFile(inode, maxBytes);
        }
        catch (DiskFormatException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    public IReadOnlyList<string> List(string directory) =>
        Lookup(directory) is { IsDirectory: true } d ? [.. FileSystem.ReadDirectory(d).Select(e => e.Name)] : [];

    private ExtInode? Lookup(string path)
    {
        try
        {
            return FileSystem.Lookup(path);
        }
        catch (DiskFormatException)
        {
            return null;
        }
    }
}
