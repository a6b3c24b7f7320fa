namespace Smc.Core.Errors;

/// <summary>
/// A failure with a stable, machine-readable code (SMC style, e.g. <c>InvalidParameter.Frequency</c>),
/// the HTTP status the API answers with, and a message that says how to fix it.
/// </summary>
public sealed class SmcException : Exception
{
    public SmcException(int status, string code, string message)
        : base(message)
    {
        Status = status;
        Code = code;
    }

    public int Status { get; }

    public string Code { get; }

    public static SmcException BadRequest(string code, string message) => new(400, code, message);

    public static SmcException NotFound(string code, string message) => new(404, code, message);

    public static SmcException Conflict(string code, string message) => new(409, code, message);

    public static SmcException Forbidden(string code, string message) => new(403, code, message);

    public static SmcException Unauthorized(string code, string message) => new(401, code, message);
}
