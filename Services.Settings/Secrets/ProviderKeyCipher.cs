using AiAssistant.ServiceDefaults;
using System.Security.Cryptography;
using System.Text;

namespace AiAssistant.Services.Settings.Secrets;

/// <summary>
/// AES-256-GCM for provider keys at rest. Each value has its own random nonce; the text names the format version and
/// the master key id (<c>v1:&lt;keyId&gt;:&lt;base64(nonce|tag|ciphertext)&gt;</c>), and the field name is associated
/// data, so a value copied into another field does not decrypt.
/// </summary>
public sealed class ProviderKeyCipher
{
    private const string Version = "v1";
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly Dictionary<string, byte[]> _keys;

    public string CurrentKeyId { get; }

    public ProviderKeyCipher(string currentKeyId, byte[] currentKey, IReadOnlyDictionary<string, byte[]>? previousKeys = null)
    {
        if (currentKey.Length != 32) throw new ArgumentException("A master key must be 32 bytes (base64 of 32 random bytes).");
        if (currentKeyId.Contains(':')) throw new ArgumentException("A master key id cannot contain ':'.");
        CurrentKeyId = currentKeyId;
        _keys = new Dictionary<string, byte[]>(previousKeys ?? new Dictionary<string, byte[]>()) { [currentKeyId] = currentKey };
    }

    /// <summary>From configuration <c>Secrets:MasterKey</c> (base64) and <c>Secrets:MasterKeyId</c>; refuses to run without.</summary>
    public static ProviderKeyCipher FromConfiguration(IConfiguration configuration)
    {
        var encoded = configuration["Secrets:MasterKey"];
        if (string.IsNullOrWhiteSpace(encoded))
            throw new SettingException(
                "Missing setting Secrets:MasterKey (environment Secrets__MasterKey): the base64 of 32 random bytes used to encrypt provider keys. " +
                "The AppHost creates one in its data folder (secrets/master.key); generate one with `openssl rand -base64 32`.");
        byte[] key;
        try { key = Convert.FromBase64String(encoded); }
        catch (FormatException) { throw new SettingException("Secrets:MasterKey (environment Secrets__MasterKey) is not valid base64."); }
        var previous = new Dictionary<string, byte[]>();
        foreach (var child in configuration.GetSection("Secrets:PreviousKeys").GetChildren())
            if (child.Value is { Length: > 0 } v) previous[child.Key] = Convert.FromBase64String(v);
        return new ProviderKeyCipher(configuration["Secrets:MasterKeyId"] ?? "k1", key, previous);
    }

    public string Encrypt(string field, string plaintext)
    {
        var plain = Encoding.UTF8.GetBytes(plaintext);
        var blob = new byte[NonceSize + TagSize + plain.Length];
        var nonce = blob.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_keys[CurrentKeyId], TagSize);
        aes.Encrypt(nonce, plain, blob.AsSpan(NonceSize + TagSize), blob.AsSpan(NonceSize, TagSize), Aad(field));
        CryptographicOperations.ZeroMemory(plain);
        return $"{Version}:{CurrentKeyId}:{Convert.ToBase64String(blob)}";
    }

    public string Decrypt(string field, string stored)
    {
        var parts = stored.Split(':', 3);
        if (parts.Length != 3 || parts[0] != Version)
            throw new CryptographicException($"The stored value of {field} is not in a known format.");
        if (!_keys.TryGetValue(parts[1], out var key))
            throw new CryptographicException($"The stored value of {field} needs master key '{parts[1]}', which is not configured.");
        var blob = Convert.FromBase64String(parts[2]);
        if (blob.Length < NonceSize + TagSize) throw new CryptographicException($"The stored value of {field} is truncated.");
        var plain = new byte[blob.Length - NonceSize - TagSize];
        using var aes = new AesGcm(key, TagSize);
        aes.Decrypt(blob.AsSpan(0, NonceSize), blob.AsSpan(NonceSize + TagSize), blob.AsSpan(NonceSize, TagSize), plain, Aad(field));
        return Encoding.UTF8.GetString(plain);
    }

    /// <summary>The key id a stored value was encrypted under.</summary>
    public static string KeyIdOf(string stored) => stored.Split(':', 3) is [_, var id, _] ? id : "";

    private static byte[] Aad(string field) => Encoding.UTF8.GetBytes("ai_settings." + field);
}
