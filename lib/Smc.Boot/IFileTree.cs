namespace Smc.Boot;

/// <summary>
/// Read access to one file system's tree, by absolute path from its root, symbolic links followed inside the tree (an
/// absolute link target resolves from this root, as in a chroot): an image's file system read from its bytes
/// (<see cref="ExtFileTree"/>) or a directory on this machine (<see cref="DirectoryTree"/>, the source's <c>/</c> or a
/// tree mounted elsewhere). The boot checks read both the same way.
/// </summary>
public interface IFileTree
{
    bool IsFile(string path);

    bool IsDirectory(string path);

    /// <summary>The file's bytes.</summary>
    /// <exception cref="InvalidDataException">The file is longer than <paramref name="maxBytes"/>, or unreadable.</exception>
    byte[] ReadFile(string path, long maxBytes);

    /// <summary>The names in a directory (without <c>.</c> and <c>..</c>); empty when it isn't one.</summary>
    IReadOnlyList<string> List(string directory);
}
