using Smc.Disks.Tests.Support;
using static Smc.Disks.Tests.Support.Images;

namespace Smc.Disks.Tests;

/// <summary>Images holding one file system on the whole disk (no partition table), each made by its real tool.</summary>
public sealed class WholeDiskFixture : IDisposable
{
    public WholeDiskFixture()
    {
        try
        {
            string tree = MakeTree(Dir.Path);
            CreateSparse(Image("ext4"), 16 * MiB);
            MkExt("ext4", Image("ext4"), 0, 16 * MiB, "whole-ext4", tree);
            MkXfs(Image("xfs"), 300 * MiB, "whole-xfs", XfsProto(Dir.Path, tree));
            MkNtfs(Image("ntfs"), 16 * MiB, "whole-ntfs", Path.Combine(tree, "blob.bin"));
            MkVfat(Image("fat32"), 40 * MiB, 32, "WHOLE32", "-s", "1", "-S", "512");
            MkVfat(Image("fat16"), 16 * MiB, 16, "WHOLE16", "-s", "4");
            MkSwap(Image("swap"), 8 * MiB, "whole-swap");
            CreateSparse(Image("lvm2"), 8 * MiB);
            LvmLabel.Write(Image("lvm2"), 0, 8 * MiB);
            CreateSparse(Image("zero"), 4 * MiB);
        }
        catch
        {
            Dir.Dispose(); // xUnit does not dispose a fixture whose constructor threw.
            throw;
        }
    }

    public TempDir Dir { get; } = new("whole");

    public string Image(string name) => Dir.File(name + ".img");

    public void Dispose() => Dir.Dispose();
}
