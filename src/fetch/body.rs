//! Reading response bodies with a hard size cap.
//!
//! The cap is checked against the declared length first, then enforced while
//! streaming the decoded bytes, so a gzip bomb stops at the cap however small it was on
//! the wire. The buffer grows by doubling but never past the cap, so a body in memory
//! takes at most `cap` bytes (the bound `--concurrency` × cap in the README rests on it).
//!
//! Types: [`BodyError`]; function [`read_capped`].

use bytes::Bytes;

#[derive(Debug, thiserror::Error)]
pub(crate) enum BodyError {
    #[error("body larger than {cap} bytes")]
    TooLarge { cap: usize },
    #[error(transparent)]
    Transport(#[from] reqwest::Error),
}

pub(crate) async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
) -> Result<Bytes, BodyError> {
    if response
        .content_length()
        .is_some_and(|len| len > cap as u64)
    {
        return Err(BodyError::TooLarge { cap });
    }
    let mut body: Vec<u8> = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let needed = body.len() + chunk.len();
        if needed > cap {
            return Err(BodyError::TooLarge { cap });
        }
        if needed > body.capacity() {
            let grown = needed.max(body.len().saturating_mul(2)).min(cap);
            body.reserve_exact(grown - body.len());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(body))
}
