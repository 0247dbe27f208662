using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Jint;
using Jint.Native;
using Jint.Runtime;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AiAssistant.Services.Tools.Flows;

/// <summary>
/// <c>exec</c>: its <c>code</c> (<c>module.exports = async function (data) { … }</c>, as Directus) runs in Jint with
/// the data chain as <c>data</c>; what the function answers (a promise is awaited) is the operation's data. The
/// script reaches nothing outside itself: no CLR access, no <c>require</c>, <c>fetch</c>, file or network. It is
/// stopped past <see cref="ExecOptions.Timeout"/>, <see cref="ExecOptions.MaxMemoryBytes"/> or
/// <see cref="ExecOptions.MaxCallDepth"/>, and each stop, like a thrown error, takes the <c>reject</c> path with a
/// message saying which limit.
/// </summary>
public sealed class ExecOperation(IOptions<FlowOptions> options) : IFlowOperation
{
    public string Type => "exec";

    /// <summary>The code's syntax, checked when the operation is saved: <c>null</c> when it parses, else why not.</summary>
    public static string? SyntaxError(string code)
    {
        try
        {
            Engine.PrepareScript(code);
            return null;
        }
        catch (ScriptPreparationException e)
        {
            return e.Message;
        }
    }

    public Task<JsonNode?> RunAsync(JsonObject values, FlowContext context)
    {
        var limits = options.Value.Exec;
        var code = values["code"]?.GetValue<string>() ?? throw new FlowOperationException(null, "\"code\" is required");
        var engine = new Engine(o => o
            .LimitMemory(limits.MaxMemoryBytes)
            .TimeoutInterval(limits.Timeout)
            .LimitRecursion(limits.MaxCallDepth)
            .CancellationToken(context.Aborted));
        try
        {
            engine.Execute("var module = { exports: {} }; var exports = module.exports;");
            engine.Execute(code);
            var function = engine.Evaluate("module.exports");
            if (function is not Jint.Native.Function.Function)
                throw new FlowOperationException(null, "The script must set module.exports to a function: module.exports = async function (data) { … }");
            var data = new Jint.Native.Json.JsonParser(engine).Parse(context.Chain.ToJsonString());
            var result = engine.Invoke(function, data).UnwrapIfPromise();
            return Task.FromResult(result.IsUndefined() ? null : JsonNode.Parse(engine.Evaluate("JSON.stringify").Call(result).AsString()));
        }
        catch (TimeoutException)
        {
            throw Stopped($"ran longer than its limit of {limits.Timeout.TotalSeconds:0.###} s");
        }
        catch (MemoryLimitExceededException)
        {
            throw Stopped($"allocated more than its limit of {limits.MaxMemoryBytes / 1024 / 1024.0:0.##} MB");
        }
        catch (RecursionDepthOverflowException)
        {
            throw Stopped($"nested its calls deeper than its limit of {limits.MaxCallDepth}");
        }
        catch (PromiseRejectedException e)
        {
            throw Failed(Reason(e.RejectedValue));
        }
        catch (JavaScriptException e)
        {
            throw Failed(e.Message);
        }
        catch (ScriptPreparationException e)
        {
            throw new FlowOperationException(null, $"The script does not parse: {e.Message}");
        }
    }

    private static FlowOperationException Stopped(string why) => new(null, $"The script was stopped: it {why}");

    private static readonly string[] Io = ["require", "fetch", "process", "XMLHttpRequest", "importNamespace", "WebSocket"];

    /// <summary>A script's own error; reaching for I/O that is not there says so.</summary>
    private static FlowOperationException Failed(string message) =>
        new(null, message.EndsWith(" is not defined", StringComparison.Ordinal) && Io.Contains(message.Split(' ')[0])
            ? $"The script failed: {message} (a script has no I/O: no modules, network, files or process)"
            : $"The script failed: {message}");

    private static string Reason(JsValue value) =>
        value is Jint.Native.Object.ObjectInstance error && error.Get("message") is { } message && !message.IsUndefined() ? message.ToString() : value.ToString();
}

/// <summary>
/// <c>json-web-token</c>: <c>sign</c> a <c>payload</c> with a <c>secret</c> (HS256, HS384 or HS512; <c>options</c>
/// as jsonwebtoken's: <c>algorithm</c>, <c>expiresIn</c>, <c>notBefore</c>, <c>audience</c>, <c>issuer</c>,
/// <c>subject</c>, <c>jwtid</c>, <c>noTimestamp</c>) answering the token; <c>verify</c> a <c>token</c> (<c>options</c>:
/// <c>algorithms</c>, <c>audience</c>, <c>issuer</c>, <c>subject</c>, <c>ignoreExpiration</c>, <c>clockTolerance</c>)
/// answering its payload; <c>decode</c> one without checking it. Through Microsoft.IdentityModel.JsonWebTokens; a
/// secret shorter than its algorithm's hash is refused (the library's rule; jsonwebtoken takes any). The secret and a
/// signed token are not kept in the run record.
/// </summary>
public sealed partial class JsonWebTokenOperation(TimeProvider time) : IFlowOperation
{
    private static readonly JsonWebTokenHandler Handler = new();
    private static readonly Dictionary<string, (string Algorithm, int Bits)> Algorithms = new()
    {
        ["HS256"] = (SecurityAlgorithms.HmacSha256, 256), ["HS384"] = (SecurityAlgorithms.HmacSha384, 384), ["HS512"] = (SecurityAlgorithms.HmacSha512, 512),
    };

    public string Type => "json-web-token";

    public bool SecretData(JsonObject options) => options["operation"]?.ToString() == "sign";

    public async Task<JsonNode?> RunAsync(JsonObject values, FlowContext context)
    {
        var settings = Object(values["options"], "options") ?? [];
        switch (values["operation"]?.ToString())
        {
            case "sign":
            {
                var payload = Object(values["payload"], "payload") ?? throw Failed("\"payload\" is required to sign a token");
                var algorithm = settings["algorithm"]?.ToString() ?? "HS256";
                var key = Key(values, Algorithms.TryGetValue(algorithm, out var a) ? a.Bits : throw Failed($"\"options.algorithm\" must be one of {string.Join(", ", Algorithms.Keys)}"));
                var now = time.GetUtcNow().ToUnixTimeSeconds();
                var claims = (JsonObject)payload.DeepClone();
                if (settings["noTimestamp"]?.GetValueKind() != JsonValueKind.True) claims["iat"] ??= now;
                var issued = claims["iat"] is JsonValue iat && long.TryParse(iat.ToJsonString(), out var i) ? i : now;
                if (settings["expiresIn"] is { } expires) claims["exp"] = issued + Seconds(expires, "expiresIn");
                if (settings["notBefore"] is { } notBefore) claims["nbf"] = issued + Seconds(notBefore, "notBefore");
                foreach (var (option, claim) in new[] { ("audience", "aud"), ("issuer", "iss"), ("subject", "sub"), ("jwtid", "jti") })
                    if (settings[option] is { } value) claims[claim] = value.DeepClone();
                return Handler.CreateToken(claims.ToJsonString(), new SigningCredentials(key, Algorithms[algorithm].Algorithm));
            }
            case "verify":
            {
                var token = Token(values);
                var allowed = settings["algorithms"] is JsonArray list ? list.Select(x => x?.ToString() ?? "").ToList() : [.. Algorithms.Keys];
                var known = allowed.Where(Algorithms.ContainsKey).ToList();
                if (known.Count == 0) throw Failed($"\"options.algorithms\" must name some of {string.Join(", ", Algorithms.Keys)}");
                var parameters = new TokenValidationParameters
                {
                    IssuerSigningKey = Key(values, known.Min(k => Algorithms[k].Bits)),
                    ValidAlgorithms = known.Select(k => Algorithms[k].Algorithm),
                    ValidateIssuer = settings["issuer"] is not null, ValidIssuer = settings["issuer"]?.ToString(),
                    ValidateAudience = settings["audience"] is not null, ValidAudience = settings["audience"]?.ToString(),
                    ValidateLifetime = settings["ignoreExpiration"]?.GetValueKind() != JsonValueKind.True,
                    RequireExpirationTime = false, RequireSignedTokens = true, ValidateIssuerSigningKey = false,
                    ClockSkew = TimeSpan.FromSeconds(settings["clockTolerance"] is { } tolerance ? Seconds(tolerance, "clockTolerance") : 0),
                };
                var result = await Handler.ValidateTokenAsync(token, parameters);
                if (!result.IsValid) throw Failed(Why(result.Exception));
                if (settings["subject"] is { } subject && (result.Claims.TryGetValue("sub", out var sub) ? sub?.ToString() : null) != subject.ToString()) throw Failed("jwt subject invalid");
                return Payload(token);
            }
            case "decode":
                return Payload(Token(values));
            default:
                throw Failed("\"operation\" must be sign, verify or decode");
        }
    }

    private static JsonNode? Payload(string token)
    {
        try
        {
            return JsonNode.Parse(Base64UrlEncoder.Decode(Handler.ReadJsonWebToken(token).EncodedPayload));
        }
        catch (Exception e) when (e is SecurityTokenMalformedException or ArgumentException or JsonException or FormatException)
        {
            throw Failed("jwt malformed");
        }
    }

    /// <summary>jsonwebtoken's words for why a token fails, never the token itself.</summary>
    private static string Why(Exception? e) => e switch
    {
        SecurityTokenExpiredException => "jwt expired",
        SecurityTokenNotYetValidException => "jwt not active",
        SecurityTokenInvalidAudienceException => "jwt audience invalid",
        SecurityTokenInvalidIssuerException => "jwt issuer invalid",
        SecurityTokenInvalidAlgorithmException => "invalid algorithm",
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "invalid signature",
        SecurityTokenMalformedException or ArgumentException => "jwt malformed",
        _ => "invalid token",
    };

    private static string Token(JsonObject values) =>
        values["token"] is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>().Length > 0 ? v.GetValue<string>().Trim()
            : throw Failed("\"token\" is required");

    private static SymmetricSecurityKey Key(JsonObject values, int bits)
    {
        var secret = values["secret"] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : throw Failed("\"secret\" is required");
        var bytes = Encoding.UTF8.GetBytes(secret);
        return bytes.Length * 8 >= bits ? new SymmetricSecurityKey(bytes) : throw Failed($"\"secret\" must be at least {bits / 8} bytes for this algorithm");
    }

    /// <summary>An option given as an object, or as JSON text (a template written into a string).</summary>
    private static JsonObject? Object(JsonNode? value, string name) => value switch
    {
        null => null,
        JsonObject o => o,
        JsonValue v when v.GetValueKind() == JsonValueKind.String && v.GetValue<string>().TrimStart().StartsWith('{') => Parse(v.GetValue<string>(), name),
        _ => throw Failed($"\"{name}\" must be an object"),
    };

    private static JsonObject Parse(string text, string name)
    {
        try
        {
            return JsonNode.Parse(text) as JsonObject ?? throw Failed($"\"{name}\" must be an object");
        }
        catch (JsonException)
        {
            throw Failed($"\"{name}\" is not JSON");
        }
    }

    [GeneratedRegex(@"^\s*(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|weeks?|y|yrs?|years?)?\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex Span();

    /// <summary>jsonwebtoken's time spans: a number is seconds, text is the <c>ms</c> package's ("2h", "7 days"; bare text is milliseconds).</summary>
    public static long Seconds(JsonNode value, string name)
    {
        if (value is JsonValue n && n.GetValueKind() == JsonValueKind.Number)
            return (long)double.Parse(n.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture);
        if (value is not JsonValue t || t.GetValueKind() != JsonValueKind.String || Span().Match(t.GetValue<string>()) is not { Success: true } m)
            throw Failed($"\"options.{name}\" must be a number of seconds or a span such as \"2h\" or \"7 days\"");
        var amount = double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        var unit = m.Groups[2].Value.ToLowerInvariant();
        var seconds = unit switch
        {
            "" or "ms" or "millisecond" or "milliseconds" => amount / 1000,
            _ when unit.StartsWith('s') => amount,
            _ when unit.StartsWith('m') => amount * 60,
            _ when unit.StartsWith('h') => amount * 3600,
            _ when unit.StartsWith('d') => amount * 86400,
            _ when unit.StartsWith('w') => amount * 604800,
            _ => amount * 31557600,
        };
        return (long)seconds;
    }

    private static FlowOperationException Failed(string message) => new(null, message);
}
