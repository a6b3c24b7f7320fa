using Smc.Disks;

namespace Smc.Boot;

/// <summary>A FAT file system inside an image (an EFI system partition), read from its bytes (<see cref="FatFileSystem"/>). FAT has no links.</summary>
public sealed class FatFileTree(FatFileSystem fs) : IFileTree
{
    public bool IsFile(string path) => Lookup(path) is { IsDirectory: false };

    public bool IsDirectory(string path) => IsRoot(path) || Lookup(path) is { IsDirectory: true };

    public byte[] ReadFile(string path, long maxBytes)
    {
        FatEntry file = Lookup(path) is { IsDirectory: false } f ? f : throw new InvalidDataException($"{path} is not a file.");
        try
        {
            return fs.ReadFile(file, maxBytes);
        }
        catch (DiskFormatException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    public IReadOnlyList<string> List(string directory)
    {
        try
        {
            return IsRoot(directory) ? [.. fs.ReadDirectory(null).Select(e => e.Name)]
                : Lookup(directory) is { IsDirectory: true } d ? [.. fs.ReadDirectory(d).Select(e => e.Name)] : [];
        }
        catch (DiskFormatException)
        {
            return [];
        }
    }

    private static bool IsRoot(string path) => path.Trim('/').Length == 0;

    private FatEntry? Lookup(string path)
    {
        try
        {
            return fs.Lookup(path);
        }
        catch (DiskFormatException)
        {
            return null;
        }
    }
}
