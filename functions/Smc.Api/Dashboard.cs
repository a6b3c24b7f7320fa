namespace Smc.Api;

/// <summary>
/// The monitoring page (plain HTML, CSS and JS in one embedded file, no network but the host): served at <c>/</c> by the
/// standalone host and at <c>/api/v1/dashboard</c> by both. It holds no data; it calls the API with the operator key the
/// operator types in, kept in the tab's sessionStorage only.
/// </summary>
public static class Dashboard
{
    private static readonly Lazy<byte[]> Page = new(() =>
    {
        using Stream stream = typeof(Dashboard).Assembly.GetManifestResourceStream("Smc.Api.Dashboard.index.html")
            ?? throw new InvalidOperationException("The dashboard page is not embedded in Smc.Api.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    public static byte[] Html => Page.Value;
}
