"""The web layer, as a FastAPI application (see app/web.py for where Depends comes from)."""

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import SessionLocal
from app.models import User
from app.web import Depends, FastAPI

app = FastAPI()


async def get_session():
    """Give each request a session of its own, closed once the response is made."""
    async with SessionLocal() as session:
        yield session


@app.get("/users/{user_id}")
async def read_user(user_id: int, session: AsyncSession = Depends(get_session)):
    user = await session.get(User, user_id)
    if user is None:
        return {"detail": "Not Found"}
    return {"id": user.id, "name": user.name}
