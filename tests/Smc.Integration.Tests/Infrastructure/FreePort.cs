using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Smc.Integration.Tests.Infrastructure;

/// <summary>
/// A loopback port nothing listens on, never the same one twice in this test run: the kernel may offer a port it just
/// freed again (seen in CI: Azurite's blob and table services were handed the same port and the second one failed).
/// </summary>
internal static class FreePort
{
    private static readonly ConcurrentDictionary<int, bool> Given = new();

    public static int Next()
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            if (Given.TryAdd(port, true))
            {
                return port;
            }
        }
    }
}
