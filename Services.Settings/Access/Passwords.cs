using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;

namespace AiAssistant.Services.Settings.Access;

/// <summary>Password hashes with ASP.NET Core Identity's <see cref="PasswordHasher{TUser}"/> (PBKDF2-HMAC-SHA512, salted).</summary>
public sealed class Passwords
{
    private sealed class Account;

    private static readonly Account Anyone = new();
    private readonly PasswordHasher<Account> _hasher = new();
    // Verified against when the email is unknown, so a missing account costs as long as a wrong password.
    private readonly string _decoy;

    public Passwords() => _decoy = _hasher.HashPassword(Anyone, Convert.ToHexString(RandomNumberGenerator.GetBytes(16)));

    public string Hash(string password) => _hasher.HashPassword(Anyone, password);

    /// <summary>(matches, the hash should be replaced by a stronger one).</summary>
    public (bool Ok, bool Rehash) Verify(string? hash, string password)
    {
        var result = _hasher.VerifyHashedPassword(Anyone, hash ?? _decoy, password);
        return hash is null ? (false, false) : (result != PasswordVerificationResult.Failed, result == PasswordVerificationResult.SuccessRehashNeeded);
    }

    /// <summary>A password for the first admin when none was given: 24 characters from 18 random bytes.</summary>
    public static string Generate() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)).Replace('+', '-').Replace('/', '_');
}
