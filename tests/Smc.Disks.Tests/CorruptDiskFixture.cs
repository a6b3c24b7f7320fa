using Smc.Disks.Tests.Support;
using static Smc.Disks.Tests.Support.Images;

namespace Smc.Disks.Tests;

/// <summary>Small pristine images that the corruption tests copy and damage.</summary>
public sealed class CorruptDiskFixture : IDisposable
{
    public const long Sector = 512;

    /// <summary>Extended partition of <see cref="Mbr"/> starts here; its first EBR is in this sector.</summary>
    public const long ExtendedStartLba = 4096;

    public const long ExtendedSectors = 8192;

    public CorruptDiskFixture()
    {
        try
        {
            Gpt = Dir.File("gpt.img");
            CreateSparse(Gpt, 8 * MiB);
            Sfdisk(Gpt, """
                label: gpt
                start=2048, size=2048, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="one"
                start=4096, size=4096, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="two"
                start=8192, size=4096, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="three"
                """);

            Mbr = Dir.File("mbr.img");
            CreateSparse(Mbr, 8 * MiB);
            Sfdisk(Mbr, """
                label: dos
                start=2048, size=2048, type=83
                start=4096, size=8192, type=5
                start=6144, size=2048, type=1
                start=10240, size=2048, type=83
                """);
            MkExt("ext2", Mbr, 2048 * Sector, 2048 * Sector, "small", null);
            MkVfat(Dir.File("fat12.img"), 2048 * Sector, 12, "SMALLFAT");
            CopyInto(Dir.File("fat12.img"), Mbr, 6144 * Sector);

            Ntfs = Dir.File("ntfs.img");
            MkNtfs(Ntfs, 8 * MiB, "small-ntfs");
        }
        catch
        {
            Dir.Dispose(); // xUnit does not dispose a fixture whose constructor threw.
            throw;
        }
    }

    public TempDir Dir { get; } = new("corrupt");

    public string Gpt { get; }

    public string Mbr { get; }

    public string Ntfs { get; }

    /// <summary>A private copy of <paramref name="source"/> to damage.</summary>
    public string Copy(string source, long? length = null)
    {
        string copy = Dir.File($"{Path.GetFileNameWithoutExtension(source)}-{Guid.NewGuid():N}.img");
        File.Copy(source, copy);
        if (length is not null)
        {
            using var file = new FileStream(copy, FileMode.Open, FileAccess.Write);
            file.SetLength(length.Value);
        }

        return copy;
    }

    public static void Patch(string path, long offset, params byte[] bytes)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Write);
        file.Position = offset;
        file.Write(bytes);
    }

    public static byte[] ReadBytes(string path, long offset, int count)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read);
        var buffer = new byte[count];
        file.Position = offset;
        file.ReadExactly(buffer);
        return buffer;
    }

    public void Dispose() => Dir.Dispose();
}
