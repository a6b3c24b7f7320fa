using System.Text;
using Smc.Wire.Boot;

namespace Smc.Boot;

/// <summary>
/// <c>network.config</c>: network settings that won't survive the move — a static address (the target's network
/// hands out its own by DHCP) or an interface bound to the source's MAC address (the target's NIC has another) — in
/// the configurations distributions use: ifupdown, netplan, NetworkManager, RHEL's ifcfg files, systemd-networkd and
/// udev persistent-net rules; and whether cloud-init is there to configure the target's network.
/// </summary>
public static class NetworkRules
{
    private const long MaxBytes = 1L << 20;

    public static BootCheck Check(IFileTree root)
    {
        var findings = new List<string>();
        foreach (string file in Files(root, "/etc/network", "interfaces").Concat(Files(root, "/etc/network/interfaces.d", null)))
        {
            foreach (string line in Lines(root, file))
            {
                string[] w = Words(line);
                if (w.Length >= 4 && w[0] == "iface" && w[1] != "lo" && w[3] == "static")
                {
                    findings.Add($"{file}: {w[1]} has a static address");
                }
                else if (w.Length >= 2 && w[0] is "hwaddress")
                {
                    findings.Add($"{file}: sets a MAC address");
                }
            }
        }

        foreach (string file in Files(root, "/etc/netplan", null).Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal)))
        {
            string[] lines = Lines(root, file);
            string text = string.Join('\n', lines);
            if (HasCidrAddress(lines))
            {
                findings.Add($"{file}: a static address");
            }

            if (text.Contains("macaddress:", StringComparison.Ordinal))
            {
                findings.Add($"{file}: an interface matched by MAC address");
            }
        }

        foreach (string file in Files(root, "/etc/NetworkManager/system-connections", null))
        {
            foreach (string line in Lines(root, file))
            {
                string l = line.Trim();
                if (l == "method=manual")
                {
                    findings.Add($"{file}: a static address (method=manual)");
                }
                else if (l.StartsWith("mac-address=", StringComparison.Ordinal))
                {
                    findings.Add($"{file}: bound to a MAC address");
                }
            }
        }

        foreach (string file in Files(root, "/etc/sysconfig/network-scripts", null).Where(f => Path.GetFileName(f).StartsWith("ifcfg-", StringComparison.Ordinal) && !f.EndsWith("ifcfg-lo", StringComparison.Ordinal)))
        {
            var values = Lines(root, file).Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0].Trim(), p => p[1].Trim().Trim('"'), StringComparer.Ordinal);
            if (values.TryGetValue("BOOTPROTO", out string? proto) && proto is "static" or "none" && values.ContainsKey("IPADDR"))
            {
                findings.Add($"{file}: a static address");
            }

            if (values.ContainsKey("HWADDR") || values.ContainsKey("MACADDR"))
            {
                findings.Add($"{file}: bound to a MAC address");
            }
        }

        foreach (string file in Files(root, "/etc/systemd/network", null))
        {
            foreach (string line in Lines(root, file))
            {
                string l = line.Trim();
                if (l.StartsWith("MACAddress=", StringComparison.Ordinal))
                {
                    findings.Add($"{file}: matches or sets a MAC address");
                }
                else if (l.StartsWith("Address=", StringComparison.Ordinal))
                {
                    findings.Add($"{file}: a static address");
                }
            }
        }

        foreach (string file in Files(root, "/etc/udev/rules.d", null).Where(f => f.Contains("persistent-net", StringComparison.Ordinal)))
        {
            if (Lines(root, file).Any(l => !l.TrimStart().StartsWith('#') && l.Contains("ATTR{address}", StringComparison.Ordinal)))
            {
                findings.Add($"{file}: interface names bound to MAC addresses");
            }
        }

        bool cloudInit = root.IsFile("/etc/cloud/cloud.cfg");
        string cloud = cloudInit ? "cloud-init is installed (ECS configures the network through it)" : "cloud-init is not installed";
        if (findings.Count == 0)
        {
            return BootRules.Pass("network.config", $"No static address or MAC-bound interface found; {cloud}.");
        }

        return BootRules.Warn("network.config", string.Join("; ", findings.Distinct()) + $". These won't match the target's network; {cloud}.",
            "Configure the interface by DHCP and without a MAC address (or install cloud-init, which configures the target's network), and remove persistent-net rules; the source keeps working with DHCP on its own network.");
    }

    /// <summary>netplan's <c>addresses:</c> with an address/prefix (inline or as a list): a static address; a nameserver's addresses have no prefix.</summary>
    private static bool HasCidrAddress(string[] lines)
    {
        for (int i = 0; i < lines.Length; i++)
        {
            string l = lines[i].Split('#')[0].Trim();
            if (!l.StartsWith("addresses:", StringComparison.Ordinal))
            {
                continue;
            }

            var values = new List<string> { l["addresses:".Length..] };
            for (int j = i + 1; j < lines.Length && lines[j].Trim().StartsWith('-'); j++)
            {
                values.Add(lines[j]);
            }

            if (values.Any(v => System.Text.RegularExpressions.Regex.IsMatch(v, @"[0-9a-fA-F:.]+/\d{1,3}")))
            {
                return true;
            }
        }

        return false;
    }

    private static IEnumerable<string> Files(IFileTree root, string directory, string? only) =>
        only is not null
            ? root.IsFile(BootRules.Join(directory, only)) ? [BootRules.Join(directory, only)] : []
            : root.List(directory).Order(StringComparer.Ordinal).Select(n => BootRules.Join(directory, n)).Where(root.IsFile);

    private static string[] Lines(IFileTree root, string file)
    {
        try
        {
            return Encoding.UTF8.GetString(root.ReadFile(file, MaxBytes)).Split('\n');
        }
        catch (InvalidDataException)
        {
            return [];
        }
    }

    private static string[] Words(string line) => line.Split('#')[0].Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
}
