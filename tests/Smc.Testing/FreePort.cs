using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Smc.Testing;

/// <summary>
/// A loopback port for a test's server, nothing listening on it and never the same one twice in this process. Ports
/// come from below the kernel's ephemeral range: a port the kernel hands out for port 0 is also one it hands to
/// outgoing connections, and with several test classes running at once one of those took a port Azurite was about to
/// listen on (EADDRINUSE). Each process starts at a random place in the range, so two test processes rarely meet,
/// and a port something already listens on is skipped.
/// </summary>
public static class FreePort
{
    private const int Low = 10000;
    private static readonly ConcurrentDictionary<int, bool> Given = new();
    private static readonly int High = EphemeralLow();
    private static int _next = Random.Shared.Next(Low, High);

    public static int Next()
    {
        for (int attempt = 0; attempt < High - Low; attempt++)
        {
            int port = Low + (int)((uint)(Interlocked.Increment(ref _next) - Low) % (uint)(High - Low));
            if (!Given.TryAdd(port, true))
            {
                continue;
            }

            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // In use: the next one.
            }
        }

        throw new InvalidOperationException($"No free loopback port in {Low}–{High}.");
    }

    /// <summary>The first port of the kernel's ephemeral range (<c>ip_local_port_range</c>), or 32768.</summary>
    private static int EphemeralLow()
    {
        try
        {
            string range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range");
            int low = int.Parse(range.Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture);
            return low > Low + 1000 ? low : 32768;
        }
        catch (IOException)
        {
            return 32768;
        }
    }
}
