using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace Smc.Testing;

/// <summary>
/// A Docker token server (the "token" auth of distribution): checks the Basic login at its realm and issues an RS256 JWT
/// for the requested repository scopes, signed by a self-signed certificate the registry trusts (its rootcertbundle)
/// and carried in the token's <c>x5c</c> header. Just enough of the token spec to test the client's Bearer flow against
/// the real registry.
/// </summary>
public sealed class TokenServer : IDisposable
{
    public const string Service = "smc-test-registry";
    public const string Issuer = "smc-test-issuer";

    private readonly HttpListener _listener = new();
    private readonly RSA _key = RSA.Create(2048);
    private readonly X509Certificate2 _certificate;
    private readonly (string User, string Password) _login;
    private readonly Task _loop;

    public TokenServer((string User, string Password) login)
    {
        _login = login;
        var request = new CertificateRequest("CN=smc-test-token-issuer", _key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        int port = FreePort.Next();
        Realm = $"http://127.0.0.1:{port}/token";
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public string Realm { get; }

    public int Issued { get; private set; }

    public string CertificatePem => _certificate.ExportCertificatePem();

    public void Dispose()
    {
        _listener.Close();
        _certificate.Dispose();
        _key.Dispose();
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            using HttpListenerResponse response = context.Response;
            string expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{_login.User}:{_login.Password}"));
            if (context.Request.Headers["Authorization"] != expected)
            {
                response.StatusCode = 401;
                continue;
            }

            var access = (context.Request.QueryString.GetValues("scope") ?? []).Select(s => s.Split(':')).Where(s => s.Length == 3)
                .Select(s => new { type = s[0], name = s[1], actions = s[2].Split(',') }).ToArray();
            long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            string header = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new { typ = "JWT", alg = "RS256", x5c = new[] { Convert.ToBase64String(_certificate.RawData) } }));
            string claims = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new
            {
                iss = Issuer,
                sub = _login.User,
                aud = context.Request.QueryString["service"],
                exp = now + 300,
                nbf = now - 10,
                iat = now,
                jti = Guid.NewGuid().ToString("N"),
                access,
            }));
            string signature = Base64Url(_key.SignData(Encoding.ASCII.GetBytes(header + "." + claims), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
            byte[] body = JsonSerializer.SerializeToUtf8Bytes(new { token = $"{header}.{claims}.{signature}", expires_in = 300 });
            Issued++;
            response.ContentType = "application/json";
            await response.OutputStream.WriteAsync(body);
        }
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

}
