using Npgsql;

namespace AiAssistant.Services.Settings.Secrets;

/// <summary>
/// <c>Services.Settings rotate-keys</c>: re-encrypts every stored secret under the current master key. Each secret is
/// its own short transaction and only secrets under another key id are touched, so it can be interrupted and run
/// again, and a second run changes nothing.
/// </summary>
public static class KeyRotation
{
    public static async Task<int> RunAsync(NpgsqlDataSource dataSource, ProviderKeyCipher cipher, TextWriter output, CancellationToken ct)
    {
        var rotated = 0;
        while (true)
        {
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            await using var tx = await connection.BeginTransactionAsync(ct);
            string field, ciphertext;
            await using (var select = new NpgsqlCommand(
                "select field, ciphertext from ai_secrets where key_id <> $1 order by field limit 1 for update skip locked", connection, tx))
            {
                select.Parameters.Add(new NpgsqlParameter { Value = cipher.CurrentKeyId });
                await using var reader = await select.ExecuteReaderAsync(ct);
                if (!await reader.ReadAsync(ct)) break;
                (field, ciphertext) = (reader.GetString(0), reader.GetString(1));
            }
            var plaintext = cipher.Decrypt(field, ciphertext);
            await using (var update = new NpgsqlCommand(
                "update ai_secrets set ciphertext = $2, key_id = $3, updated_at = now() where field = $1", connection, tx))
            {
                update.Parameters.Add(new NpgsqlParameter { Value = field });
                update.Parameters.Add(new NpgsqlParameter { Value = cipher.Encrypt(field, plaintext) });
                update.Parameters.Add(new NpgsqlParameter { Value = cipher.CurrentKeyId });
                await update.ExecuteNonQueryAsync(ct);
            }
            await tx.CommitAsync(ct);
            rotated++;
            await output.WriteLineAsync($"re-encrypted {field} under key {cipher.CurrentKeyId}");
        }
        await output.WriteLineAsync($"rotate-keys: {rotated} secret(s) re-encrypted; every secret is now under key {cipher.CurrentKeyId}");
        return rotated;
    }
}
