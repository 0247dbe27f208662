using System.Security.Cryptography;

namespace AiAssistant.AppHost.Hosting;

/// <summary>
/// Secrets generated on the first start and kept in <c>{data}/secrets/</c> (folder 700, files 600), the same on every
/// start after; each becomes an Aspire secret parameter, so the dashboard masks it.
/// </summary>
public sealed class DataFolderSecrets(string dataFolder)
{
    public string Folder { get; } = Path.Combine(dataFolder, "secrets");

    public string PathOf(string name) => Path.Combine(Folder, name);

    /// <summary>A secret parameter whose value is read from the data folder, or generated there now.</summary>
    public IResourceBuilder<ParameterResource> Parameter(IDistributedApplicationBuilder builder, string name, string file, SecretFormat format) =>
        builder.AddParameter(name, LoadOrCreate(file, format), secret: true);

    public string LoadOrCreate(string name, SecretFormat format)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("The AppHost keeps its secrets with Unix file modes.");
        if (!Directory.Exists(Folder))
            Directory.CreateDirectory(Folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var path = PathOf(name);
        if (File.Exists(path)) return File.ReadAllText(path).Trim();
        var value = format switch
        {
            SecretFormat.Key256Base64 => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            _ => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(format == SecretFormat.Token192Hex ? 24 : 32)),
        };
        // created with mode 600 from the start: never readable by others, not even briefly
        using var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        using var writer = new StreamWriter(stream);
        writer.Write(value);
        return value;
    }
}

/// <summary>How a generated secret looks: the services read keys as base64 and tokens as text.</summary>
public enum SecretFormat
{
    /// <summary>32 random bytes, base64: an AES-256 or HMAC-SHA256 key.</summary>
    Key256Base64,
    /// <summary>32 random bytes, hex.</summary>
    Token256Hex,
    /// <summary>24 random bytes, hex: short enough to type.</summary>
    Token192Hex,
}
