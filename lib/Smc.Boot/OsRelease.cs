using System.Text;

namespace Smc.Boot;

/// <summary>
/// The distribution a root file system holds, from its <c>/etc/os-release</c> (or <c>/usr/lib/os-release</c>), and the
/// name ECS's <c>ImportImage</c> takes for it as <c>Platform</c> (its documented list; anything else is <c>Others Linux</c>).
/// </summary>
public static class OsRelease
{
    private static readonly (string Id, string Platform)[] Platforms =
    [
        ("centos", "CentOS"), ("ubuntu", "Ubuntu"), ("debian", "Debian"), ("sles", "SUSE"), ("opensuse", "OpenSUSE"),
        ("opensuse-leap", "OpenSUSE"), ("rhel", "RedHat"), ("almalinux", "AlmaLinux"), ("rocky", "Rocky Linux"),
        ("alinux", "Aliyun"), ("anolis", "Anolis"), ("fedora", "Fedora"), ("coreos", "CoreOS"), ("freebsd", "FreeBSD"), ("kylin", "Kylin"), ("uos", "UOS"), ("gentoo", "Gentoo"),
    ];

    /// <summary>ID and PRETTY_NAME, or nulls when the file is missing or unreadable.</summary>
    public static (string? Id, string? PrettyName) Read(IFileTree root)
    {
        foreach (string path in new[] { "/etc/os-release", "/usr/lib/os-release" })
        {
            try
            {
                if (!root.IsFile(path))
                {
                    continue;
                }

                var values = Encoding.UTF8.GetString(root.ReadFile(path, 64 << 10)).Split('\n')
                    .Select(l => l.Split('=', 2)).Where(p => p.Length == 2)
                    .GroupBy(p => p[0].Trim(), StringComparer.Ordinal)
                    .ToDictionary(g => g.Key, g => g.First()[1].Trim().Trim('"', '\''), StringComparer.Ordinal);
                return (values.GetValueOrDefault("ID"), values.GetValueOrDefault("PRETTY_NAME"));
            }
            catch (InvalidDataException)
            {
                return (null, null);
            }
        }

        return (null, null);
    }

    public static string EcsPlatform(string? id) =>
        Platforms.FirstOrDefault(p => string.Equals(p.Id, id, StringComparison.OrdinalIgnoreCase)).Platform ?? "Others Linux";
}
