namespace Smc.Registry;

/// <summary>
/// A registry refused a request: the HTTP status and the first error of the OCI error body (<c>UNAUTHORIZED</c>,
/// <c>DENIED</c>, <c>NAME_UNKNOWN</c>, <c>BLOB_UPLOAD_UNKNOWN</c>, <c>MANIFEST_INVALID</c>…). <see cref="UserError"/>: the
/// operator must fix something (credentials, permissions, names); retrying won't help.
/// </summary>
public sealed class RegistryException : Exception
{
    public RegistryException(int status, string code, string message, Exception? inner = null)
        : base(message, inner)
    {
        Status = status;
        Code = code;
    }

    /// <summary>A refusal whose kind isn't told by an HTTP status (a failed TLS handshake, a push that stopped progressing).</summary>
    public RegistryException(int status, string code, string message, bool userError, Exception? inner = null)
        : this(status, code, message, inner) => _userError = userError;

    private readonly bool? _userError;

    public RegistryException()
        : this(0, "UNKNOWN", "The registry request failed.")
    {
    }

    public RegistryException(string message)
        : this(0, "UNKNOWN", message)
    {
    }

    public RegistryException(string message, Exception inner)
        : this(0, "UNKNOWN", message, inner)
    {
    }

    public int Status { get; }

    public string Code { get; }

    /// <summary>4xx other than 408/429: credentials, permissions, names, a manifest the registry won't take.</summary>
    public bool UserError => _userError ?? Status is >= 400 and < 500 and not (408 or 429);
}
