using System.Security.Cryptography;

namespace AiAssistant.AppHost.Hosting;

/// <summary>
/// The stack's generated secrets, created on first start in {data}/secrets (mode 600) and the same afterwards:
/// the internal service credential, the master key that encrypts provider keys at rest, the admin's static
/// token used when ADMIN_TOKEN is not given, and the key that signs and verifies access tokens (JWT).
/// </summary>
public sealed record StackSecrets(string InternalToken, string MasterKey, string GeneratedAdminToken, string GeneratedAdminTokenPath, string JwtKey)
{
    public const string MasterKeyId = "k1";

    public static StackSecrets LoadOrCreate(string dataFolder)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("The launcher runs on Linux.");
        var folder = Path.Combine(dataFolder, "secrets");
        if (!Directory.Exists(folder))
            Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var adminTokenPath = Path.Combine(folder, "admin.token");
        return new StackSecrets(
            LoadOrCreate(Path.Combine(folder, "internal.token"), () => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32))),
            LoadOrCreate(Path.Combine(folder, "master.key"), () => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))),
            LoadOrCreate(adminTokenPath, () => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24))),
            adminTokenPath,
            LoadOrCreate(Path.Combine(folder, "jwt.key"), () => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))));
    }

    private static string LoadOrCreate(string path, Func<string> create)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("The launcher runs on Linux.");
        if (File.Exists(path)) return File.ReadAllText(path).Trim();
        var value = create();
        // created with 600 from the start: the secret is never readable by others, not even briefly
        using (var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        using (var writer = new StreamWriter(stream)) writer.Write(value);
        return value;
    }
}
