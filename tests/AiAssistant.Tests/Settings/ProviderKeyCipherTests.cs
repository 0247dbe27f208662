using System.Security.Cryptography;
using System.Text;
using AiAssistant.Services.Settings.Secrets;
using Xunit;

namespace AiAssistant.Tests.Settings;

public class ProviderKeyCipherTests
{
    private static byte[] Key() => RandomNumberGenerator.GetBytes(32);

    [Fact]
    public void Round_trips_and_never_contains_the_plaintext()
    {
        var cipher = new ProviderKeyCipher("k1", Key());
        var stored = cipher.Encrypt("ai_openai_compatible_api_key", "sk-plain-secret");
        Assert.DoesNotContain("sk-plain-secret", stored);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes("sk-plain-secret")), stored);
        Assert.StartsWith("v1:k1:", stored);
        Assert.Equal("sk-plain-secret", cipher.Decrypt("ai_openai_compatible_api_key", stored));
    }

    [Fact]
    public void Each_value_gets_its_own_nonce()
    {
        var cipher = new ProviderKeyCipher("k1", Key());
        Assert.NotEqual(cipher.Encrypt("f", "same"), cipher.Encrypt("f", "same"));
    }

    [Fact]
    public void A_value_moved_to_another_field_does_not_decrypt()
    {
        var cipher = new ProviderKeyCipher("k1", Key());
        var stored = cipher.Encrypt("ai_openai_api_key", "sk-1");
        Assert.ThrowsAny<CryptographicException>(() => cipher.Decrypt("ai_anthropic_api_key", stored));
    }

    [Fact]
    public void A_tampered_value_does_not_decrypt()
    {
        var cipher = new ProviderKeyCipher("k1", Key());
        var stored = cipher.Encrypt("f", "sk-1");
        var blob = Convert.FromBase64String(stored.Split(':')[2]);
        blob[^1] ^= 1;
        Assert.ThrowsAny<CryptographicException>(() => cipher.Decrypt("f", "v1:k1:" + Convert.ToBase64String(blob)));
    }

    [Fact]
    public void Previous_keys_still_decrypt_and_new_values_use_the_current_key()
    {
        var oldKey = Key();
        var before = new ProviderKeyCipher("k1", oldKey).Encrypt("f", "sk-old");
        var rotated = new ProviderKeyCipher("k2", Key(), new Dictionary<string, byte[]> { ["k1"] = oldKey });
        Assert.Equal("sk-old", rotated.Decrypt("f", before));
        Assert.Equal("k2", ProviderKeyCipher.KeyIdOf(rotated.Encrypt("f", "sk-new")));
    }

    [Fact]
    public void An_unknown_key_id_names_the_missing_key()
    {
        var stored = new ProviderKeyCipher("k9", Key()).Encrypt("f", "sk-1");
        var e = Assert.ThrowsAny<CryptographicException>(() => new ProviderKeyCipher("k1", Key()).Decrypt("f", stored));
        Assert.Contains("k9", e.Message);
    }

    [Fact]
    public void Refuses_to_start_without_a_master_key_and_says_which_setting()
    {
        var config = new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build();
        var e = Assert.Throws<AiAssistant.ServiceDefaults.SettingException>(() => ProviderKeyCipher.FromConfiguration(config));
        Assert.Contains("Secrets:MasterKey", e.Message);
    }
}
